"""Kubernetes mode: Lease failover time, and the controller's throughput with 10,000 Monitors.

Both run against the Kubernetes API double of tests/kube/apiserver.py on 127.0.0.1, with
the real kubernetes client; the cache is SQLite in a temporary folder.

- failover: two candidates hold a coordination.k8s.io Lease through `Elector`; the leader
  is "killed" (it stops renewing and never releases) and we time until the standby leads,
  and the gap between the old leader stepping down and the new one starting. Expected:
  about lease duration + one retry period; the gap must never be negative (no overlap).
- throughput: N Monitors exist before the controller starts (initial list and full sync),
  then N spec edits and N deletes arrive as watch events; we time each phase to the
  cache, and the status writes (one per object) to the API.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from app.controller.kube import KubeController, KubeLease, KubeSecretStore
from app.coord import Elector
from app.store import Store
from bench.common import median, save, say, table
from tests.kube.apiserver import ApiServer


class _Killable:
    def __init__(self, lease: KubeLease) -> None:
        self.lease, self.identity, self.dead = lease, lease.identity, False

    def try_acquire_or_renew(self) -> bool:
        if self.dead:
            raise ConnectionError("killed")
        return self.lease.try_acquire_or_renew()

    def release(self) -> None:
        if not self.dead:
            self.lease.release()


def failover(server: ApiServer, lease_s: float, renew_deadline: float, retry: float) -> tuple[float, float]:
    """(seconds until the standby leads, gap between old leader stopping and new one starting)."""
    kube = server.client()
    events: dict[str, float] = {}
    name = f"bench-{time.monotonic_ns()}"
    electors: dict[str, tuple[Elector, _Killable]] = {}
    for who in ("a", "b"):
        lease = _Killable(KubeLease(kube, "kubekuma", name, who, lease_s))
        electors[who] = (
            Elector(lease, lambda w=who: events.setdefault(f"{w}-lead", time.monotonic()),
                    lambda w=who: events.setdefault(f"{w}-follow", time.monotonic()), renew_deadline, retry),
            lease,
        )  # fmt: skip
    electors["a"][0].start()
    while "a-lead" not in events:
        time.sleep(0.01)
    electors["b"][0].start()
    time.sleep(retry * 3)
    killed = time.monotonic()
    electors["a"][1].dead = True
    deadline = killed + lease_s * 3 + 5
    while "b-lead" not in events and time.monotonic() < deadline:
        time.sleep(0.005)
    for elector, _ in electors.values():
        elector.stop(timeout=2)
    kube.close()
    takeover = events.get("b-lead", float("nan")) - killed
    return takeover, events.get("b-lead", float("nan")) - events.get("a-follow", float("nan"))


def _wait(cond: Any, timeout: float) -> float:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            raise TimeoutError("the controller did not catch up")
        time.sleep(0.1)
    return time.monotonic() - start


def throughput(server: ApiServer, n: int) -> dict[str, float]:
    api = server.api
    for i in range(n):
        api.create("monitors", f"ns{i % 20}", {
            "apiVersion": "kubekuma.io/v1alpha1", "kind": "Monitor", "metadata": {"name": f"m{i}"},
            "spec": {"type": "http", "interval": "60s", "http": {"url": f"http://127.0.0.1:9/{i}"}},
        })  # fmt: skip
    kube = server.client()
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'kk.db'}")
        ctl = KubeController(kube, store, KubeSecretStore(kube), live_every=3600, recheck_every=3600)
        start = time.monotonic()
        ctl.start()
        ctl.wait_synced(600)
        _wait(lambda: len(store.resources.list(kind="Monitor")) == n, 600)
        out["list+sync s"] = time.monotonic() - start
        _wait(lambda: ctl.writer.stats.writes >= n and ctl.idle(), 900)
        out["status writes s"] = time.monotonic() - start
        base = ctl.events
        start = time.monotonic()
        for i in range(n):
            api.update("monitors", f"ns{i % 20}", f"m{i}", {"spec": {"interval": "30s"}})
        produced = time.monotonic() - start
        _wait(lambda: ctl.events >= base + n and ctl._queue.empty(), 900)
        out["edits s"] = time.monotonic() - start
        out["edit produce s"] = produced
        _wait(ctl.idle, 900)
        out["edits+status s"] = time.monotonic() - start
        base = ctl.events
        start = time.monotonic()
        for i in range(n):
            api.delete("monitors", f"ns{i % 20}", f"m{i}")
        _wait(
            lambda: (
                ctl.events >= base + n and ctl._queue.empty() and not store.resources.list(kind="Monitor")
            ),
            900,
        )
        out["deletes s"] = time.monotonic() - start
        out["status writes"] = ctl.writer.stats.writes
        ctl.stop()
        store.close()
    kube.close()
    return out


def main(quick: bool = False) -> dict[str, Any]:
    n = 2000 if quick else 10_000
    trials = 3 if quick else 5
    say(f"== kubernetes: Lease failover ({trials} trials) and controller throughput ({n:,} Monitors)")
    results: dict[str, Any] = {}
    server = ApiServer(bookmark_interval=5.0).start()
    try:
        rows = []
        for lease_s, deadline, retry in [(2.0, 1.4, 0.2), *([] if quick else [(15.0, 10.0, 2.0)])]:
            runs = [failover(server, lease_s, deadline, retry) for _ in range(trials if lease_s < 10 else 1)]
            takeovers, gaps = [r[0] for r in runs], [r[1] for r in runs]
            rows.append([f"{lease_s:g}/{deadline:g}/{retry:g}", median(takeovers), max(takeovers), min(gaps),
                         lease_s + retry])  # fmt: skip
            results[f"failover {lease_s:g}s"] = {"takeover_s": takeovers, "gap_s": gaps}
        say(
            table(
                rows,
                ["lease/renew/retry s", "takeover median s", "takeover max s", "min gap s", "expected ≤ s"],
            )
        )
        say("   (gap = new leader start - old leader stop; positive means never two leaders at once)")

        figures = throughput(server, n)
        results["throughput"] = figures
        say(table([
            ["initial list + cache sync", n, figures["list+sync s"], n / figures["list+sync s"]],
            ["first status of every object", n, figures["status writes s"], n / figures["status writes s"]],
            ["spec edits (watch -> cache)", n, figures["edits s"], n / figures["edits s"]],
            ["edits incl. new conditions", n, figures["edits+status s"], n / figures["edits+status s"]],
            ["deletes (watch -> cache)", n, figures["deletes s"], n / figures["deletes s"]],
        ], ["phase", "events", "seconds", "events/s"]))  # fmt: skip
    finally:
        server.stop()
    path = save("kube", results)
    say(f"   raw figures: {path}")
    return results


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
