"""Rollup reads on SQLite and PostgreSQL: exact windows, day bars, retention, rebuilds from heartbeats."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult, FailureClass, MonitorSnapshot
from app.store import Store
from app.uptime import plan
from app.uptime.windows import effective_start

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


def record(store: Store, uid: str, at: datetime, ok: bool, latency: float = 10.0) -> None:
    result = CheckResult.up(latency) if ok else CheckResult.down(FailureClass.TIMEOUT, "timed out", latency)

    def decide(prev: MonitorSnapshot | None):  # type: ignore[no-untyped-def]
        return next_state(prev, result, RetryPolicy(), False, at)

    store.checks.record(uid, result, decide, at)


@pytest.fixture
def history(store: Store) -> list[tuple[datetime, bool]]:
    """~400 checks of one monitor over the last 3 days at random seconds, a third of them failed."""
    rng = random.Random(7)
    times = sorted(NOW - timedelta(seconds=rng.randrange(0, 3 * 86400)) for _ in range(400))
    out = []
    for t in times:
        ok = rng.random() > 0.33
        record(store, "mon", t, ok)
        out.append((t, ok))
    return out


WINDOWS = {
    "10m": timedelta(minutes=10),
    "2h": timedelta(hours=2),
    "24h": timedelta(hours=24),
    "47h": timedelta(hours=47),
    "3d": timedelta(days=3),
}


def test_window_sums_equal_the_raw_heartbeats(store: Store, history: list[tuple[datetime, bool]]) -> None:
    got = store.rollups.windows(["mon"], {name: plan(NOW - length, NOW) for name, length in WINDOWS.items()})
    for name, length in WINDOWS.items():  # one history, every window read in one statement
        start = effective_start(NOW - length, NOW)
        inside = [ok for t, ok in history if t >= start]
        w = got[name]["mon"]
        assert (w.up, w.down, w.latency_count) == (sum(inside), len(inside) - sum(inside), len(inside)), name


def test_several_windows_and_monitors_in_one_read(store: Store) -> None:
    record(store, "a", NOW - timedelta(minutes=1), True)
    record(store, "a", NOW - timedelta(hours=30), False)
    record(store, "b", NOW - timedelta(minutes=3), False)
    plans = {"1h": plan(NOW - timedelta(hours=1), NOW), "2d": plan(NOW - timedelta(days=2), NOW)}
    got = store.rollups.windows(["a", "b", "nobody"], plans)
    assert (got["1h"]["a"].up, got["1h"]["a"].down, got["2d"]["a"].down) == (1, 0, 1)
    assert (got["1h"]["b"].down, "nobody" in got["1h"]) == (1, False)
    every = store.rollups.windows(None, plans)
    assert set(every["2d"]) == {"a", "b"}


def test_day_buckets_for_bars(store: Store) -> None:
    for days_ago, ok in ((0, True), (0, False), (2, True), (40, True)):
        record(store, "a", NOW - timedelta(days=days_ago), ok)
    first = datetime(2024, 4, 1, tzinfo=UTC)
    got = store.rollups.days(["a"], first, datetime(2024, 5, 2, tzinfo=UTC))["a"]
    assert {d.isoformat(): (c.up, c.down) for d, c in got.items()} == {
        "2024-05-01": (1, 1),
        "2024-04-29": (1, 0),
    }


def test_retention_deletes_old_buckets_per_resolution_in_small_batches(store: Store) -> None:
    for minutes_ago in range(0, 60 * 60, 7):  # 60 hours, one check every 7 minutes
        record(store, "a", NOW - timedelta(minutes=minutes_ago), True)
    minutes_before, hours_before = store.rollups.count("m"), store.rollups.count("h")
    cut = NOW - timedelta(hours=48)
    deleted = store.rollups.prune({"m": cut}, batch=5)
    assert deleted["m"] > 50 and store.rollups.count("m") == minutes_before - deleted["m"]
    assert store.rollups.count("h") == hours_before, "other resolutions are left alone"
    # what is left of the minutes still adds up for a 24 h window
    got = store.rollups.windows(["a"], {"24h": plan(NOW - timedelta(hours=24), NOW)})["24h"]["a"]
    assert got.up == len(
        [m for m in range(0, 60 * 60, 7) if NOW - timedelta(minutes=m) >= NOW - timedelta(hours=24)]
    )
    assert store.rollups.prune({"m": cut})["m"] == 0


def test_rebuild_from_heartbeats_matches_what_recording_wrote(
    store: Store, history: list[tuple[datetime, bool]]
) -> None:
    before = store.rollups.windows(["mon"], {"d": plan(NOW - timedelta(days=3), NOW)})
    for res in ("m", "h", "d"):
        store.rollups.rebuild(res, NOW - timedelta(days=4), NOW + timedelta(minutes=1))
    assert store.rollups.windows(["mon"], {"d": plan(NOW - timedelta(days=3), NOW)}) == before


def test_synthesized_history_is_fast_and_adds_up(store: Store) -> None:
    n = store.rollups.synthesize_heartbeats(["x", "y"], NOW - timedelta(days=10), 240, 3600, down_every=4)
    assert n == 480 and store.checks.count_heartbeats("x") == 240
    for res in ("m", "h", "d"):
        store.rollups.rebuild(res, NOW - timedelta(days=11), NOW)
    got = store.rollups.windows(["x"], {"all": plan(NOW - timedelta(days=30), NOW)})["all"]["x"]
    assert (got.up, got.down) == (180, 60)
