"""The due monitors, kept in a timing wheel of short slots: what each slot tick takes out.

Slot k holds the uids whose next planned time falls in [k·slot, (k+1)·slot). A tick takes
the slots that have fully passed, so its work is the due set and nothing else, whatever
the number of monitors. Each monitor's planned times are EPOCH + phase + n·interval
(`timing`); after it fires, it goes into the slot of its next planned time after now
(a monitor that was late fires once, as APScheduler's `coalesce` did, rather than once per
missed interval).

Entries are never searched for: a changed or removed monitor leaves a stale uid behind,
which the tick recognises (the job is gone, or its `due` lies in another slot) and drops.
Not thread-safe on its own; the scheduler holds its lock around every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from app.scheduler.timing import next_fire

T = TypeVar("T")


@dataclass(slots=True)
class Job:
    """One monitor's place in the schedule (about 100 bytes; no per-monitor APScheduler job)."""

    interval: float
    timeout: float
    generation: int
    start: float  # its first planned time; the others follow every `interval`
    due: float = 0.0  # its next planned time


@dataclass(frozen=True, slots=True)
class Due:
    uid: str
    generation: int
    planned: float
    timeout: float


class SlotWheel:
    def __init__(self, slot_s: float) -> None:
        if slot_s <= 0:
            raise ValueError("slot_s must be above 0")
        self.slot_s = slot_s
        self.jobs: dict[str, Job] = {}
        self._slots: dict[int, list[str]] = {}
        self._cursor: int | None = None  # the first slot not yet taken

    def slot_of(self, t: float) -> int:
        return math.floor(t / self.slot_s)

    def __len__(self) -> int:
        return len(self.jobs)

    def place(self, uid: str, job: Job, now: float) -> None:
        """Add or replace a monitor's job; it is next due at its first planned time at or after `now`,
        and never in a slot already taken (a clock read before the last tick would lose it for good)."""
        if self._cursor is None:
            self._cursor = self.slot_of(now)
        job.due = next_fire(job.start, job.interval, max(now, self._cursor * self.slot_s))
        self.jobs[uid] = job
        self._slots.setdefault(self.slot_of(job.due), []).append(uid)

    def remove(self, uid: str) -> None:
        self.jobs.pop(uid, None)  # its slot entry is dropped when that slot is taken

    def take(self, now: float) -> list[Due]:
        """The monitors due in the slots that ended at or before `now`, each moved on to its next time."""
        end = self.slot_of(now)  # slots before this one have fully passed
        start = end if self._cursor is None else self._cursor
        if end - start > len(self._slots):
            # Far behind (a long pause): visit the slots that exist rather than every index.
            keys = sorted(k for k in self._slots if k < end)
        else:
            keys = list(range(start, end))
        self._cursor = max(end, start)
        out: list[Due] = []
        for k in keys:
            for uid in self._slots.pop(k, ()):
                job = self.jobs.get(uid)
                if job is None or self.slot_of(job.due) != k:
                    continue  # removed, rescheduled, or a duplicate entry already taken
                out.append(Due(uid, job.generation, job.due, job.timeout))
                job.due = next_fire(job.start, job.interval, max(now, job.due + job.interval * 0.5))
                self._slots.setdefault(self.slot_of(job.due), []).append(uid)
        return out

    def from_now(self, now: float) -> int:
        """Forget the slots missed while not leading: each monitor due before `now` moves to its next
        planned time from now, and ticks resume at the current slot. Returns how many moved."""
        end = self.slot_of(now)
        moved = 0
        for k in [k for k in self._slots if k < end]:
            for uid in self._slots.pop(k):
                job = self.jobs.get(uid)
                if job is None or self.slot_of(job.due) != k:
                    continue
                job.due = next_fire(job.start, job.interval, now)
                self._slots.setdefault(self.slot_of(job.due), []).append(uid)
                moved += 1
        self._cursor = end
        return moved

    def next_due(self, uid: str) -> float | None:
        job = self.jobs.get(uid)
        return job.due if job is not None else None

    def slot_count(self) -> int:
        return len(self._slots)


def chunks(items: list[T], cap: int, timeout: Callable[[T], float]) -> list[list[T]]:
    """A slot's due monitors in messages of at most `cap`, similar timeouts together, so that one
    long timeout does not lend its time limit to a whole batch of short ones."""
    if cap < 1:
        raise ValueError("cap must be at least 1")
    ordered = sorted(items, key=timeout)
    return [ordered[i : i + cap] for i in range(0, len(ordered), cap)]
