"""Shared fixtures: real SQLite files, real PostgreSQL databases, real Redis namespaces.

The services run on loopback (`make test` starts them when they are down). Each test
that asks for a database gets a fresh one, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import redis

PG_ADMIN = os.environ.get("KUBEKUMA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("KUBEKUMA_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _pg_url(dbname: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"kk_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kubekuma.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kubekuma.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    from app.store import Store

    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    yield client
    client.close()


@pytest.fixture
def redis_ns(redis_client: redis.Redis) -> Iterator[str]:
    """A unique key prefix; every key under it is deleted afterwards."""
    ns = f"kktest-{uuid.uuid4().hex[:10]}"
    yield ns
    for key in redis_client.scan_iter(f"{ns}*"):
        redis_client.delete(key)
