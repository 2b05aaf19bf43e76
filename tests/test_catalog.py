"""The revision cache every hot path follows the resource cache with."""

from __future__ import annotations

import threading
import time

from app.catalog import RevisionCache


def test_nobody_is_served_the_empty_value_while_the_first_one_is_built() -> None:
    """Before: a worker's second thread, arriving while the first built the alerting configuration,
    got the empty one and routed a recovery to no policy (the fault suite lost an UP)."""
    started = threading.Event()

    def build(revision: int, old: list[str]) -> list[str]:
        started.set()
        time.sleep(0.3)  # a slow first read of the resource cache
        return ["policy"]

    cache: RevisionCache[list[str]] = RevisionCache("test", lambda: 7, build, [], ttl=60.0)
    first = threading.Thread(target=cache.get)
    first.start()
    assert started.wait(5)

    assert cache.get() == ["policy"]  # waited for the build rather than answering []
    first.join()
    assert cache.revision == 7


def test_an_unreadable_cache_keeps_the_last_value() -> None:
    revisions = iter([1])

    def revision() -> int:
        return next(revisions)  # then StopIteration: the database went away

    cache: RevisionCache[str] = RevisionCache(
        "test", revision, lambda rev, old: f"built at {rev}", "", ttl=0.0
    )
    assert cache.get() == "built at 1"
    assert cache.get() == "built at 1"
    assert cache.moved() is False
