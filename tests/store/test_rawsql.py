"""The pure parts of app/store/rawsql.py: how many rows one statement may carry, what is storable."""

from __future__ import annotations

import pytest

from app.store.rawsql import chunks, max_params, storable


@pytest.mark.parametrize(
    ("version", "limit"),
    [((3, 31, 1), 999), ((3, 32, 0), 30_000), ((3, 45, 3), 30_000)],
    ids=["before-3.32", "3.32", "later"],
)
def test_max_params_follows_the_sqlite_library(version: tuple[int, int, int], limit: int) -> None:
    assert max_params(version) == limit


@pytest.mark.parametrize(
    ("rows", "width", "limit", "sizes"),
    [
        (10, 3, 9, [3, 3, 3, 1]),  # 3 rows of 3 parameters fit in 9
        (10, 3, 10, [3, 3, 3, 1]),  # never past the limit
        (4, 1, 999, [4]),
        (0, 5, 999, []),
        (3, 20, 9, [1, 1, 1]),  # a row wider than the limit still goes, one a statement
        (2000, 10, 999, [99] * 20 + [20]),
    ],
    ids=["exact", "remainder", "one-statement", "empty", "wide-rows", "old-sqlite"],
)
def test_chunks_keep_each_statement_within_the_limit(
    rows: int, width: int, limit: int, sizes: list[int]
) -> None:
    parts = list(chunks(list(range(rows)), width, limit))
    assert [len(p) for p in parts] == sizes
    assert [r for p in parts for r in p] == list(range(rows))


def test_storable_replaces_nul_in_text_and_json_structures() -> None:
    value = {"k\x00": ["a\x00b", ("t\x00",), 3, None, {"n": "\x00"}], "ok": 1.5}
    assert storable(value) == {"k\ufffd": ["a\ufffdb", ["t\ufffd"], 3, None, {"n": "\ufffd"}], "ok": 1.5}
    assert storable("plain") == "plain" and storable(7) == 7
