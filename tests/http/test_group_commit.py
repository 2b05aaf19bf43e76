"""Group commit: requests that arrive together share one commit, and each gets its own answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from app.http.group_commit import GroupCommit


class Ledger:
    """A stand-in transaction: records each batch it was given; `bad` items make a batch fail."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def commit(self, items: Sequence[int]) -> list[int]:
        time.sleep(self.delay_s)
        if any(i < 0 for i in items):
            raise ValueError(f"cannot record {min(items)}")
        with self.lock:
            self.batches.append(list(items))
        return [i * 10 for i in items]


def submit_all(group: GroupCommit[int, int], items: list[int]) -> dict[int, object]:
    answers: dict[int, object] = {}
    start = threading.Barrier(len(items))

    def one(i: int) -> None:
        start.wait()
        try:
            answers[i] = group.submit(i)
        except Exception as exc:
            answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return answers


def test_concurrent_items_share_commits_and_each_gets_its_own_answer() -> None:
    ledger = Ledger(delay_s=0.02)
    group: GroupCommit[int, int] = GroupCommit(ledger.commit, max_batch=8, window_s=0.01)

    answers = submit_all(group, list(range(1, 25)))

    assert answers == {i: i * 10 for i in range(1, 25)}
    assert sorted(i for b in ledger.batches for i in b) == list(range(1, 25))  # each committed once
    assert len(ledger.batches) < 24  # together, not one by one
    assert max(len(b) for b in ledger.batches) <= 8


def test_an_answer_comes_only_after_its_commit() -> None:
    ledger = Ledger(delay_s=0.2)
    group: GroupCommit[int, int] = GroupCommit(ledger.commit)

    t0 = time.monotonic()
    assert group.submit(7) == 70
    assert time.monotonic() - t0 >= 0.2
    assert ledger.batches == [[7]]


def test_a_bad_item_fails_only_its_own_request() -> None:
    ledger = Ledger(delay_s=0.02)
    group: GroupCommit[int, int] = GroupCommit(ledger.commit, window_s=0.05)

    answers = submit_all(group, [1, 2, -3, 4])

    assert isinstance(answers[-3], ValueError) and str(answers[-3]) == "cannot record -3"
    assert {i: answers[i] for i in (1, 2, 4)} == {1: 10, 2: 20, 4: 40}
    assert sorted(i for b in ledger.batches for i in b) == [1, 2, 4]


def test_the_collector_thread_ends_when_idle_and_comes_back() -> None:
    ledger = Ledger()
    group: GroupCommit[int, int] = GroupCommit(ledger.commit, idle_s=0.1, name="gc-under-test")

    assert group.submit(1) == 10
    time.sleep(0.4)
    assert not any(t.name == "gc-under-test" for t in threading.enumerate())
    assert group.submit(2) == 20
    assert ledger.batches == [[1], [2]]
