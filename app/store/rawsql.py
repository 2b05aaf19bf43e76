"""Raw SQL on the db_session's own connection, for the statements that write many rows at once.

Pony's `db.execute` evaluates every `$name` of a statement as Python, which is most of the
cost of a multi-row insert of a few hundred rows; these statements go to the driver's
cursor instead, on the connection (and in the transaction) of the caller's db_session.
`Raw.open` starts that transaction for writing (BEGIN IMMEDIATE on SQLite, where Pony
also takes its in-process writer lock), so Pony commits or rolls it back with the session.

Values are written as Pony writes them, so rows from here and from the entities read alike:
datetimes as naive UTC (on SQLite as Pony's text, always with microseconds), JSON as text.
Text comes from monitored servers (reasons, details), and some send NUL bytes: PostgreSQL
refuses NUL in text and `\\u0000` in jsonb, so every value written here has them replaced
(`storable`), on SQLite too, so both databases keep the same rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pony.orm import Database

from app.store.timeutil import from_db, to_db

T = TypeVar("T")
NUL, REPLACEMENT = "\x00", "\ufffd"


def max_params(sqlite_version: tuple[int, int, int]) -> int:
    """Parameters one statement may name: SQLite takes 32766 since 3.32 (2020) and 999 before;
    PostgreSQL's 65535 is more than either, so the SQLite library's limit serves both."""
    return 30_000 if sqlite_version >= (3, 32, 0) else 999


MAX_PARAMS = max_params(sqlite3.sqlite_version_info)
# INSERT ... RETURNING came with SQLite 3.35 (2021); older libraries insert row by row.
SQLITE_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)


def chunks(rows: Sequence[T], width: int, limit: int = MAX_PARAMS) -> Iterator[Sequence[T]]:
    """Slices of `rows` small enough for one statement, at `width` parameters a row."""
    step = max(1, limit // max(1, width))
    for start in range(0, len(rows), step):
        yield rows[start : start + step]


IN_CHUNK = 500
_IN_MARKS = ", ".join(f"$k{i}" for i in range(IN_CHUNK))


def select_in(db: Database, sql: str, values: Sequence[Any]) -> list[Any]:
    """`db.select(sql)` for each slice of `values`, where `sql` ends in `IN` and the list is appended.

    Reads stay in Pony's raw SQL (no write transaction, unlike `Raw`); every statement names
    IN_CHUNK parameters, the last value repeated, so Pony parses one statement text once."""
    rows: list[Any] = []
    for start in range(0, len(values), IN_CHUNK):
        part = values[start : start + IN_CHUNK]
        params = {f"k{i}": part[min(i, len(part) - 1)] for i in range(IN_CHUNK)}
        rows += db.select(f"{sql} ({_IN_MARKS})", params)
    return rows


def storable(value: Any) -> Any:
    """`value` with every NUL character in its text (strings, and the keys and strings of JSON
    structures) replaced by U+FFFD, as a decoder replaces bytes it cannot read."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def read_time(value: Any) -> datetime | None:
    """A datetime column read raw: SQLite gives Pony's text, PostgreSQL a datetime; aware UTC out."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return from_db(value)


def _params(params: Sequence[Any]) -> tuple[Any, ...]:
    """A statement's parameters as the driver gets them: text made `storable`."""
    return tuple(storable(v) if isinstance(v, str) else v for v in params)


class Raw:
    """Statements on one db_session's connection, with the dialect's placeholders and value forms."""

    def __init__(self, db: Database, dialect: str) -> None:
        self.dialect = dialect
        self.ph = "?" if dialect == "sqlite" else "%s"
        self.returning = dialect != "sqlite" or SQLITE_RETURNING
        db.flush()  # entities the caller changed in this session are in the database before we read
        self.connection = db.get_connection()  # begins the write transaction if none is open

    # -- values ------------------------------------------------------------------------------
    def time(self, dt: datetime | None) -> Any:
        if dt is None:
            return None
        dt = to_db(dt)
        if self.dialect == "sqlite":  # Pony's text form: '2024-05-01 12:30:15.000000'
            return dt.isoformat(" ", "microseconds")
        return dt

    def bucket(self, dt: datetime) -> Any:
        """A rollup bucket as the rollup statements have always written it (on SQLite, to the second)."""
        dt = to_db(dt)
        return dt.isoformat(" ", "seconds") if self.dialect == "sqlite" else dt

    def json(self, value: Any) -> str | None:
        if value is None:
            return None
        value = storable(value)
        if self.dialect == "sqlite":  # as Pony's SQLite converter writes it
            return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        return json.dumps(value)

    # -- statements ---------------------------------------------------------------------------
    def marks(self, n: int) -> str:
        return ", ".join([self.ph] * n)

    def rows_marks(self, rows: int, width: int) -> str:
        one = f"({self.marks(width)})"
        return ", ".join([one] * rows)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute; the number of rows it changed."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, _params(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, _params(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def member(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """`column IN (...)` with its parameters."""
        return f"{column} IN ({self.marks(len(values))})", list(values)

    def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str
    ) -> dict[Any, int]:
        """Multi-row INSERT; the new ids by the value of `key`, which must be unique among `rows`
        (SQLite does not promise RETURNING's order, so ids are matched by key, not position)."""
        out: dict[Any, int] = {}
        cols = ", ".join(columns)
        k = list(columns).index(key)
        if not self.returning:
            cursor = self.connection.cursor()
            try:
                for row in rows:
                    cursor.execute(
                        f"INSERT INTO {table} ({cols}) VALUES ({self.marks(len(columns))})", _params(row)
                    )
                    out[row[k]] = int(cursor.lastrowid)
            finally:
                cursor.close()
            return out
        for part in chunks(rows, len(columns)):
            sql = f"INSERT INTO {table} ({cols}) VALUES {self.rows_marks(len(part), len(columns))} "
            sql += f"RETURNING id, {key}"
            for new_id, value in self.rows(sql, [v for row in part for v in row]):
                out[value] = int(new_id)
        return out
