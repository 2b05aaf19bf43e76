"""Whether a failed write met a database outage (write it again later) or bad data (never will).

Workers wait through an outage, retrying with their marks kept alive, because the same rows
will go in once the database is back. A refusal of the rows themselves (a value the database
does not take, a constraint) comes back on every retry: retrying a batch for it only loses
every other check of the batch. The drivers say which is which by the DB-API class of the
error; Pony wraps them (`original_exc`) or collects them on a failed commit (`exceptions`).
"""

from __future__ import annotations

import sqlite3

import psycopg2
import psycopg2.errors
from pony.orm import dbapiprovider
from pony.orm.core import CommitException, ConnectionClosedError, RollbackException

from app.store.recording import FirstCheckRace

# Connection lost or refused, server shutting down, a lock or serialisation conflict, a statement
# cancelled: the DB-API's OperationalError and InterfaceError, as raised by each driver and by Pony.
_OUTAGE: tuple[type[BaseException], ...] = (
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    sqlite3.OperationalError,  # "database is locked", disk I/O
    sqlite3.InterfaceError,
    dbapiprovider.OperationalError,
    dbapiprovider.InterfaceError,
    psycopg2.errors.ReadOnlySqlTransaction,  # a failover: the standby we reached is not promoted yet
    ConnectionClosedError,
    ConnectionError,
    FirstCheckRace,  # another transaction recorded a new monitor first: record again
)


def is_outage(exc: BaseException) -> bool:
    """True when writing the same rows again may succeed; False for an error in the rows."""
    if isinstance(exc, _OUTAGE):
        return True
    if isinstance(exc, CommitException | RollbackException):
        return any(is_outage(e) for _, e, _ in exc.exceptions)
    inner = getattr(exc, "original_exc", None)
    return isinstance(inner, BaseException) and is_outage(inner)
