"""Which failed writes are an outage to wait through, and which are data the database refuses."""

from __future__ import annotations

import sqlite3

import psycopg2
import psycopg2.errors
import pytest
from pony.orm import dbapiprovider
from pony.orm.core import CommitException

from app.store import is_outage
from app.store.recording import FirstCheckRace


def commit_failed(exc: BaseException) -> CommitException:
    return CommitException(str(exc), [(type(exc), exc, None)])


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (psycopg2.OperationalError("server closed the connection unexpectedly"), True),
        (psycopg2.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg2.errors.SerializationFailure("could not serialize access"), True),
        (psycopg2.InterfaceError("connection already closed"), True),
        (psycopg2.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (dbapiprovider.OperationalError(psycopg2.OperationalError("could not connect to server")), True),
        (commit_failed(dbapiprovider.OperationalError(psycopg2.OperationalError("gone"))), True),
        (FirstCheckRace("record again"), True),
        (psycopg2.DataError("unsupported Unicode escape sequence"), False),
        (psycopg2.IntegrityError("duplicate key value"), False),
        (sqlite3.IntegrityError("refused"), False),
        (ValueError("A string literal cannot contain NUL (0x00) characters."), False),
        (TypeError("Object of type bytes is not JSON serializable"), False),
        (dbapiprovider.DataError(psycopg2.DataError("bad value")), False),
        (commit_failed(dbapiprovider.IntegrityError(psycopg2.IntegrityError("violates"))), False),
    ],
    ids=[
        "pg-connection-lost", "pg-shutdown", "pg-serialization", "pg-closed", "pg-read-only-standby",
        "sqlite-locked", "pony-connect", "pony-commit-lost", "first-check-race", "pg-data", "pg-integrity",
        "sqlite-integrity", "nul-in-text", "not-json", "pony-data", "pony-commit-integrity",
    ],
)  # fmt: skip
def test_is_outage(exc: BaseException, outage: bool) -> None:
    assert is_outage(exc) is outage
