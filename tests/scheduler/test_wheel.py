"""The timing wheel on its own: what a slot tick takes out, and when each monitor comes round again."""

from __future__ import annotations

import pytest

from app.scheduler.timing import next_fire, phase_start, planned_time
from app.scheduler.wheel import Job, SlotWheel, chunks

T0 = 1_800_000_000.0  # a slot boundary for 0.2 s slots, far from EPOCH


def job(uid: str, interval: float, timeout: float = 10.0, generation: int = 1) -> Job:
    return Job(interval, timeout, generation, phase_start(uid, interval))


def taken(wheel: SlotWheel, now: float) -> list[str]:
    return sorted(d.uid for d in wheel.take(now))


@pytest.mark.parametrize(
    ("after", "expected_k"),
    [(0.0, 0), (0.1, 1), (9.99, 1), (10.0, 1), (10.01, 2)],
    ids=["at-start", "just-after-start", "before-next", "on-next", "just-after-next"],
)
def test_next_fire_is_the_first_planned_time_at_or_after(after: float, expected_k: int) -> None:
    assert next_fire(100.0, 10.0, 100.0 + after) == pytest.approx(100.0 + 10.0 * expected_k)


def test_each_monitor_is_taken_once_per_interval_at_its_phase() -> None:
    wheel = SlotWheel(0.2)
    uids = [f"m{i}" for i in range(200)]
    for uid in uids:
        wheel.place(uid, job(uid, 10.0), T0)

    seen: dict[str, list[float]] = {u: [] for u in uids}
    t = T0
    while t < T0 + 30.0:  # three intervals, one tick per slot
        t += 0.2
        for d in wheel.take(t):
            assert d.planned <= t < d.planned + 0.2 + 1e-6  # due, and taken in the slot after its own
            seen[d.uid].append(d.planned)
    for uid, planned in seen.items():
        assert len(planned) == 3
        for p in planned:
            assert p == pytest.approx(planned_time(uid, 10.0, p + 1e-6))


def test_a_late_tick_takes_each_missed_monitor_once() -> None:
    wheel = SlotWheel(0.2)
    wheel.place("m", job("m", 1.0), T0)

    # Five intervals pass without a tick (a stall): the monitor fires once, not five times.
    assert taken(wheel, T0 + 5.3) == ["m"]
    nxt = wheel.next_due("m")
    assert nxt is not None and T0 + 5.3 <= nxt < T0 + 6.3


def test_a_removed_or_rescheduled_monitor_leaves_nothing_behind() -> None:
    wheel = SlotWheel(0.2)
    wheel.place("gone", job("gone", 10.0), T0)
    wheel.place("moved", job("moved", 10.0), T0)
    wheel.remove("gone")
    wheel.place("moved", job("moved", 10.0, generation=2), T0)  # an edit places it again

    out = wheel.take(T0 + 10.2)

    assert [(d.uid, d.generation) for d in out] == [("moved", 2)]
    assert len(wheel) == 1


def test_from_now_skips_what_was_missed_while_standing_by() -> None:
    wheel = SlotWheel(0.2)
    for i in range(50):
        wheel.place(f"m{i}", job(f"m{i}", 5.0), T0)
    later = T0 + 3600.0

    moved = wheel.from_now(later)

    assert moved == 50
    assert taken(wheel, later + 0.2) == sorted(  # only what is due in the first slot from now
        f"m{i}" for i in range(50) if next_fire(phase_start(f"m{i}", 5.0), 5.0, later) < later + 0.2
    )
    for i in range(50):
        assert later <= (wheel.next_due(f"m{i}") or 0) < later + 5.2


def test_chunks_cap_the_batch_and_keep_similar_timeouts_together() -> None:
    timeouts = [1.0] * 230 + [30.0] * 5
    out = chunks(list(reversed(timeouts)), 100, lambda t: t)

    assert [len(c) for c in out] == [100, 100, 35]
    assert max(out[0]) == 1.0 and max(out[1]) == 1.0  # the long timeouts share the last message
    assert chunks([], 100, lambda t: t) == []


def test_a_monitor_placed_with_a_clock_read_before_the_last_tick_still_comes_round() -> None:
    """sync() reads the clock, then the slot loop may take later slots before sync places the job:
    the job must not land in a slot the wheel has already passed (it would never be taken)."""
    wheel = SlotWheel(0.2)
    for i in range(500):
        wheel.place(f"m{i}", job(f"m{i}", 10.0), T0)
    wheel.take(T0 + 2.05)  # the loop ran on
    late = Job(10.0, 5.0, 1, T0 + 1.995)  # due at T0 + 1.995 + k * 10
    wheel.place("late", late, T0 + 1.99)  # with the clock sync read a moment earlier

    fired = [d.uid for t in range(1, 150) for d in wheel.take(T0 + 2.05 + 0.2 * t) if d.uid == "late"]

    assert len(fired) == 2  # at +11.995 and +21.995 (the passed +1.995 is skipped, the job not lost)
