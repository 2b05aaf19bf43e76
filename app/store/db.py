"""Opening a store: binding Pony to SQLite or PostgreSQL, and migrating the schema.

The database records its schema version in `kk_meta`. `app.store.migrations` lists every
change since version 1 as a function of (database, dialect); opening an older database runs
the missing ones in order inside one transaction, then lets Pony create any new table.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pony.orm import Database, db_session

from app.store.entities import define_entities

log = logging.getLogger(__name__)

Migration = tuple[int, str, Callable[[Database, str], None]]

# Version 1 is the initial schema Pony creates; app/store/migrations.py lists the changes since
# as (version it upgrades to, what it does, how).
SCHEMA_VERSION = 1


class StoreError(Exception):
    pass


def _bind(db: Database, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(url.split("sqlite://", 1)[1])
        if path.startswith("/") and not path.startswith("//"):
            path = path[1:] or ":memory:"
        elif path.startswith("//"):
            path = path[1:]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).resolve())
        db.bind(provider="sqlite", filename=path, create_db=True)
        return "sqlite"
    if parts.scheme in ("postgres", "postgresql"):
        db.bind(provider="postgres", dsn=url.replace("postgres://", "postgresql://", 1))
        return "postgres"
    raise StoreError(f"unsupported database URL scheme {parts.scheme!r}")


def _sqlite_pragmas(db: Database) -> None:
    @db.on_connect(provider="sqlite")
    def _on_connect(_db: Database, connection: Any) -> None:
        cur = connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA foreign_keys=ON")


_migrate_lock = threading.Lock()


@contextlib.contextmanager
def _cross_process_lock(url: str, dialect: str) -> Iterator[None]:
    """Processes starting together on one PostgreSQL must not create tables or migrate twice."""
    if dialect != "postgres":
        yield
        return
    import psycopg2

    conn = psycopg2.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(7215001)")
        yield
    finally:
        conn.close()  # closing the session releases the lock


def schema_version(db: Database) -> int | None:
    with db_session:
        try:
            rows = db.select("SELECT value FROM kk_meta WHERE key = 'schema_version'")
        except Exception:
            return None
    return int(rows[0]) if rows else None


def open_database(url: str, migrations: Sequence[Migration] = ()) -> tuple[Database, str]:
    """Bind, upgrade and map. Returns the Pony database and its dialect ('sqlite' or 'postgres')."""
    migrations = list(migrations)
    target = max([SCHEMA_VERSION, *(m[0] for m in migrations)])
    db = Database()
    define_entities(db)
    _sqlite_pragmas(db)
    dialect = _bind(db, url)
    with _migrate_lock, _cross_process_lock(url, dialect):
        current = schema_version(db)
        if current is not None and current > target:
            raise StoreError(f"database schema {current} is newer than this KubeKuma ({target}); upgrade it")
        if current is not None and current < target:
            with db_session:
                for version, what, fn in sorted(migrations, key=lambda m: m[0]):
                    if current < version <= target:
                        log.info("migrating schema to %d: %s", version, what)
                        fn(db, dialect)
                db.execute("UPDATE kk_meta SET value = $v WHERE key = 'schema_version'", {"v": str(target)})
        db.generate_mapping(create_tables=True)
        if current is None:
            with db_session:
                if not db.select("SELECT value FROM kk_meta WHERE key = 'schema_version'"):
                    db.execute(
                        "INSERT INTO kk_meta (key, value) VALUES ('schema_version', $v)", {"v": str(target)}
                    )
    return db, dialect
