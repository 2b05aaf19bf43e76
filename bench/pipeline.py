"""Pipeline benchmark: the plain loop and KubeKuma's two shapes, side by side, on one local target.

1. Plain loop: one Python process, one requests.Session, sequential GETs against the
   target for the window: the ceiling of "Python doing HTTP" on this machine.
2. Scaled out: controller, scheduler, 2 workers (8 threads each) and web on a fresh
   PostgreSQL database and a Redis server of their own (bench/cluster.py `Cluster`).
3. Embedded: the default `kubekuma run`, one process on SQLite and the in-memory broker
   (`EmbeddedRun`).

For each shape, on the same nginx (or Python) target:
- Saturated: more monitors at 1 s than it can check. Checks/s = heartbeat rows per second
  over the window (measured in the database, whatever the workers and scheduler do
  inside). CPU per check = utime+stime of every KubeKuma process over the window /
  checks, and separately PostgreSQL (this database's backends) and Redis (its own server).
  Ratio to the plain loop: target >= 0.6.
- Capacity: the most monitors at a 20 s interval with no beat more than 10 % (2 s) late and
  none missing. N steps up (each on a fresh start) until the first failure or the last
  step (32,000; BENCH_QUICK stops at 4,000 with shorter windows), measured over 1.5
  intervals after every monitor was checked once; lateness = heartbeat time -
  planned_time(uid, 20, heartbeat time).

Run alone: `python -m bench.pipeline [--quick] [--profile] [--only scaled|embedded] [--steps N,N]`
(`--profile` records the first worker with py-spy during the scaled-out saturated window,
sampling only the thread holding the GIL; needs py-spy in the venv).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import requests

from bench.cluster import Cluster, EmbeddedRun
from bench.common import (
    load_average,
    machine_cpu_s,
    percentile,
    proc_cpu_s,
    py_spy,
    quick_from_env,
    save,
    say,
    table,
)
from bench.target import Target

TARGET_RATIO = 0.6
TARGET_CPU_MS = 1.0  # over KubeKuma's processes (issue 14)
TARGET_CPU_ALL_MS = 1.5  # including PostgreSQL and Redis
TARGET_MONITORS = {"scaled": 20_000, "embedded": 12_000}
SHAPES: dict[str, type[Cluster]] = {"scaled": Cluster, "embedded": EmbeddedRun}
CAP_INTERVAL = 20.0
LATE_S = 0.1 * CAP_INTERVAL


def plain_loop(url: str, seconds: float, max_requests: int = 5_000_000) -> dict[str, float]:
    """Sequential GETs on one session: requests/s and this process's CPU per request."""
    ok = 0
    with requests.Session() as s:
        s.get(url, timeout=5).raise_for_status()
        c0, t0 = time.process_time(), time.perf_counter()
        end = t0 + seconds
        while ok < max_requests and time.perf_counter() < end:
            r = s.get(url, timeout=5)
            ok += r.status_code == 200
        c1, t1 = time.process_time(), time.perf_counter()
    return {
        "requests": ok,
        "seconds": t1 - t0,
        "rps": ok / (t1 - t0),
        "cpu_ms_per_req": (c1 - c0) / ok * 1000,
    }


def idle_cores(cluster: Cluster, seconds: float) -> dict[str, float]:
    """CPU the processes burn with no monitor at all (polling, leases, consumers), in cores."""
    deadline = time.monotonic() + 60
    while not cluster.table_exists():
        cluster.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError("the schema did not appear within 60 s")
        time.sleep(0.5)
    time.sleep(3.0)
    cpu0, t0 = cluster.cpu(), time.perf_counter()
    time.sleep(seconds)
    cpu1, t1 = cluster.cpu(), time.perf_counter()
    return {k: (cpu1[k] - cpu0[k]) / (t1 - t0) for k in cpu0}


def steady(shape: Callable[[], Cluster], quick: bool, plain: dict[str, Any], profile: bool = False
           ) -> dict[str, Any]:  # fmt: skip
    n, warm, window = 1500, (5.0 if quick else 10.0), (15.0 if quick else 30.0)
    cluster = shape()
    try:
        cluster.start()
        idle = idle_cores(cluster, 5.0 if quick else 10.0)
        say(f"   idle (no monitors): {sum(idle.values()):.3f} cores for {len(idle)} process(es)")
        cluster.write_set("flood", n, 1.0, plain["url"])
        say(f"   saturated: {n} http monitors at 1s; waiting for every first check")
        cluster.wait_checked("flood", n, timeout=180)
        cluster.wait_queue_empty("alerts", timeout=60)  # first checks are transitions (new -> UP)
        time.sleep(warm)
        cluster.check_alive()
        context = cluster.context_pids()
        first = "worker-1" if "worker-1" in cluster.procs else next(iter(cluster.procs))
        spy = py_spy(cluster.procs[first].pid, window, first.replace(" ", "-")) if profile else None
        cpu0 = cluster.cpu()
        ctx0 = {k: sum(proc_cpu_s(p) for p in v) for k, v in context.items()}
        m0, t0 = machine_cpu_s(), time.time()
        time.sleep(window)
        t1, m1 = time.time(), machine_cpu_s()
        cpu1 = cluster.cpu()
        ctx1 = {k: sum(proc_cpu_s(p) for p in v) for k, v in context.items()}
        depth = cluster.queue_depth()
        time.sleep(1.5)  # let the last transactions of the window commit
        checks = cluster.heartbeats_between(t0, t1)
        cluster.check_alive()
        if spy is not None:
            spy.wait(window + 30)
    finally:
        cluster.stop()
    secs = t1 - t0
    per_role = {k: (cpu1[k] - cpu0[k]) for k in cpu0}
    total_cpu = sum(per_role.values())
    idle_total = sum(idle.values())
    cps = checks / secs
    nan = float("nan")
    return {
        "monitors": n,
        "interval_s": 1.0,
        "window_s": secs,
        "checks": checks,
        "checks_per_s": cps,
        # Saturated when work was left waiting: a queue behind (scaled out), or fewer checks than due.
        "saturated": depth > 0 if depth >= 0 else cps < 0.9 * n,
        "queue_depth_end": depth,
        "idle_cores": idle,
        "idle_cores_total": idle_total,
        "cpu_s": per_role,
        "cpu_total_s": total_cpu,
        "cpu_ms_per_check": total_cpu / checks * 1000 if checks else nan,
        "cpu_ms_per_check_less_idle": (total_cpu - idle_total * secs) / checks * 1000 if checks else nan,
        "cpu_ms_per_check_by_role": {k: v / checks * 1000 for k, v in per_role.items()} if checks else {},
        "context_cpu_ms_per_check": {k: (ctx1[k] - ctx0[k]) / checks * 1000 for k in ctx0} if checks else {},
        "machine_busy_cores": (m1 - m0) / secs,
        "ratio_to_plain": cps / plain["rps"] if plain["rps"] else nan,
    }


def lateness(beats: list[tuple[str, float]], uids: list[str], w0: float, w1: float) -> dict[str, Any]:
    """Per planned slot in [w0, w1): its beat's lateness, or missing when no beat came for it."""
    from app.scheduler.jobs import planned_time

    late: list[float] = []
    seen: set[tuple[str, float]] = set()
    for uid, t in beats:
        slot = planned_time(uid, CAP_INTERVAL, t)
        if w0 <= slot < w1:
            late.append(t - slot)
            seen.add((uid, round(slot, 3)))
    expected = 0
    missing = 0
    for uid in uids:
        slot = planned_time(uid, CAP_INTERVAL, w1 - 1e-6)
        while slot >= w0:
            expected += 1
            if (uid, round(slot, 3)) not in seen:
                missing += 1
            slot -= CAP_INTERVAL
    return {
        "slots": expected,
        "beats": len(late),
        "missing": missing,
        "late": sum(1 for x in late if x > LATE_S),
        "p50_s": percentile(late, 50),
        "p99_s": percentile(late, 99),
        "max_s": max(late) if late else float("nan"),
    }


def capacity_step(shape: Callable[[], Cluster], url: str, n: int, window: float, idle: float
                  ) -> dict[str, Any]:  # fmt: skip
    cluster = shape()
    name = f"cap{n}"
    try:
        cluster.write_set(name, n, CAP_INTERVAL, url)
        cluster.start()
        try:
            warm = cluster.wait_checked(name, n, timeout=90 + n / 40)
        except TimeoutError as exc:
            return {"monitors": n, "ok": False, "why": str(exc)}
        # Every first check is a transition (new -> UP): the start-up burst leaves work on both
        # queues. Measure the steady state, so wait for it to drain (bounded: a backlog that
        # stays is a failure the window shows).
        drain = cluster.wait_queue_empty("alerts", timeout=60)
        drain += cluster.wait_queue_below(
            "checks", max(5, int(n / CAP_INTERVAL / 2)), timeout=3 * CAP_INTERVAL
        )
        time.sleep(3.0)
        uids = cluster.uids_of_set(name)
        cpu0, w0 = cluster.cpu(), time.time()
        time.sleep(window)
        w1, cpu1 = time.time(), cluster.cpu()
        depth = cluster.queue_depth()
        time.sleep(LATE_S + 3.0)  # beats of the last slots may arrive up to 2 s late and still pass
        beats = cluster.beats_of_set(name, w0, w1 + CAP_INTERVAL)
        cluster.check_alive()
    finally:
        cluster.stop()
    # Beats attributed to slots at or after w1 are outside the window and ignored by `lateness`.
    r = lateness(beats, uids, w0, w1 - LATE_S)
    checks = sum(1 for _, t in beats if w0 <= t < w1)
    cpu = sum(cpu1.values()) - sum(cpu0.values())
    ok = r["missing"] == 0 and r["late"] == 0
    return {
        "monitors": n,
        "ok": ok,
        "warmup_s": warm,
        "drain_s": drain,
        "window_s": w1 - w0,
        "queue_depth_end": depth,
        "demand_per_s": n / CAP_INTERVAL,
        "cpu_util_cores": cpu / (w1 - w0),
        "checks_in_window": checks,
        "cpu_ms_per_check_by_role": {k: (cpu1[k] - cpu0[k]) / checks * 1000 for k in cpu0} if checks else {},
        "cpu_ms_per_check": cpu / checks * 1000 if checks else float("nan"),
        "cpu_ms_per_check_less_idle": (cpu - idle * (w1 - w0)) / checks * 1000 if checks else float("nan"),
        **r,
    }


def capacity(
    shape: Callable[[], Cluster], url: str, quick: bool, idle: float, steps: list[int] | None = None
) -> dict[str, Any]:
    chosen = steps is not None
    if steps is None:
        steps = [250, 500, 1000, 2000, 4000] if quick else [1000, 2000, 4000, 8000, 16000, 32000]
    window = CAP_INTERVAL if quick else 1.5 * CAP_INTERVAL
    say(
        f"   capacity at {CAP_INTERVAL:g}s: steps {steps}, window {window:g}s each, fail = any beat > "
        f"{LATE_S:g}s late or missing"
    )
    results: list[dict[str, Any]] = []
    passed = failed = None
    for n in steps:
        r = capacity_step(shape, url, n, window, idle)
        results.append(r)
        _say_step(r)
        if not r["ok"]:
            failed = n
            break
        passed = n
    if not quick and not chosen and passed and failed:  # one bisection: last pass to first failure
        mid = (passed + failed) // 2
        r = capacity_step(shape, url, mid, window, idle)
        results.append(r)
        _say_step(r)
        if r["ok"]:
            passed = mid
    return {
        "interval_s": CAP_INTERVAL,
        "window_s": window,
        "steps": results,
        "max_ok": passed,
        "first_failure": failed,
    }


def _say_step(r: dict[str, Any]) -> None:
    if "beats" not in r:
        say(f"   {r['monitors']:>6} @20s: FAIL ({r.get('why')})")
        return
    say(
        f"   {r['monitors']:>6} @20s: {'ok  ' if r['ok'] else 'FAIL'} lateness p50 {r['p50_s']:.3f}s"
        f" p99 {r['p99_s']:.3f}s max {r['max_s']:.3f}s; {r['late']} late,"
        f" {r['missing']}/{r['slots']} missing;"
        f" CPU {r['cpu_ms_per_check']:.2f} ms/check, {r['cpu_util_cores']:.2f} cores;"
        f" first checks of all took {r['warmup_s']:.0f}s, backlog drained in {r['drain_s']:.0f}s"
    )


def run_shape(
    name: str, quick: bool, plain: dict[str, Any], profile: bool, steps: list[int] | None = None
) -> dict[str, Any]:
    shape = SHAPES[name]
    say(f"-- {shape.label}")
    st = steady(shape, quick, plain, profile and name == "scaled")
    say(
        table(
            [(role, ms) for role, ms in st["cpu_ms_per_check_by_role"].items()]
            + [("= KubeKuma total", st["cpu_ms_per_check"])]
            + [(f"({k})", ms) for k, ms in st["context_cpu_ms_per_check"].items()],
            ["process", "CPU ms/check"],
        )
    )
    say(
        f"   {st['checks_per_s']:.0f} checks/s over {st['window_s']:.0f}s ({st['checks']} heartbeats),"
        f" saturated: {st['saturated']} (queue depth {st['queue_depth_end']}); machine busy"
        f" {st['machine_busy_cores']:.2f} of 2 cores"
    )
    cap = capacity(shape, plain["url"], quick, st["idle_cores_total"], steps)
    return {"label": shape.label, "steady": st, "capacity": cap}


def side_by_side(plain: dict[str, Any], shapes: dict[str, dict[str, Any]]) -> str:
    """The figures of issue 14's acceptance, one column per way of checking, targets last."""
    names = list(shapes)

    def col(fn: Callable[[dict[str, Any]], Any]) -> list[Any]:
        out = []
        for n in names:
            try:
                out.append(fn(shapes[n]))
            except (KeyError, TypeError):
                out.append("—")
        return out

    def ms(v: float) -> str:
        return f"{v:.2f}"

    def saturated(key: str, fmt: Callable[[Any], str] = ms) -> list[Any]:
        return col(lambda s: fmt(s["steady"][key]))

    def context(what: str) -> list[Any]:
        return col(lambda s: ms(s["steady"]["context_cpu_ms_per_check"][what]))

    def everything(s: dict[str, Any]) -> str:
        st = s["steady"]
        return ms(st["cpu_ms_per_check"] + sum(st["context_cpu_ms_per_check"].values()))

    def first_failure(s: dict[str, Any]) -> str:
        cap = s["capacity"]
        return str(cap["first_failure"] or f"none up to {max(r['monitors'] for r in cap['steps']):,}")

    monitors = " / ".join(f"{k} ≥ {v:,}" for k, v in TARGET_MONITORS.items() if k in names)
    plain_ms = ms(plain["cpu_ms_per_req"])
    rows = [
        ["checks/s saturated", f"{plain['rps']:.0f}", *saturated("checks_per_s", lambda v: f"{v:.0f}"), "—"],
        ["ratio to the plain loop", "1.00", *saturated("ratio_to_plain"), f"≥ {TARGET_RATIO}"],
        ["CPU ms/check, KubeKuma processes", plain_ms, *saturated("cpu_ms_per_check"), f"≤ {TARGET_CPU_MS}"],
        ["CPU ms/check, PostgreSQL", "—", *context("PostgreSQL"), "—"],
        ["CPU ms/check, Redis", "—", *context("Redis"), "—"],
        ["CPU ms/check, all of them", plain_ms, *col(everything), f"≤ {TARGET_CPU_ALL_MS}"],
        ["most monitors @20s on time", "—", *col(lambda s: s["capacity"]["max_ok"] or "none"), monitors],
        ["first failing step", "—", *col(first_failure), "—"],
    ]
    return table(rows, ["", "plain loop", *(shapes[n]["label"] for n in names), "target"])


def main(
    quick: bool = False, profile: bool = False, only: str | None = None, steps: list[int] | None = None
) -> dict[str, Any]:
    quick = quick or quick_from_env()
    say(
        "== pipeline: the plain loop, scaled out and embedded against one local HTTP target"
        f" (load {load_average()})"
    )
    target = Target().start()
    shapes: dict[str, dict[str, Any]] = {}
    try:
        say(f"   target: {target.kind} at {target.url}")
        window = 15.0 if quick else 30.0
        plain: dict[str, Any] = {**plain_loop(target.url, window), "url": target.url}
        say(
            f"   plain loop (requests.Session, sequential): {plain['rps']:.0f} req/s,"
            f" {plain['cpu_ms_per_req']:.3f} ms CPU/request"
        )
        for name in [only] if only else list(SHAPES):
            try:
                shapes[name] = run_shape(name, quick, plain, profile, steps)
            except Exception as exc:  # one shape failing still prints the other
                say(f"   {name}: FAILED: {exc}")
    finally:
        target.stop()
    say(side_by_side(plain, shapes))
    out = {"quick": quick, "target": target.kind, "plain": plain, "shapes": shapes}
    say(f"   raw figures: {save('pipeline', out)}")
    return out


def _cli() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--profile", action="store_true", help="py-spy the first worker during the saturated window"
    )
    ap.add_argument("--only", choices=sorted(SHAPES), help="one shape (beside the plain loop)")
    ap.add_argument(
        "--steps", help="capacity steps to try, e.g. 16000,20000 (each on a fresh start; no bisection)"
    )
    args = ap.parse_args()
    steps = [int(n) for n in args.steps.split(",")] if args.steps else None
    main(args.quick, args.profile, args.only, steps)


if __name__ == "__main__":
    _cli()
