"""The seeded site of tests/http on SQLite, for the integrations that read KubeKuma's own output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import Store
from tests.http.conftest import Site, make_site


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    store = Store(sqlite_url)
    yield make_site(store, tmp_path)
    store.close()
