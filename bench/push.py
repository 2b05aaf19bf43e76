"""Push ingestion: pushes per second and latency over 1,000 push monitors on SQLite.

`kubekuma run` (the embedded default: SQLite, in-memory broker) serves the pushes in its
own process; the load generator runs in separate processes on the same machine, each
with a keep-alive connection per thread, spreading pushes over every monitor's token.
Target: 1,500 pushes/s or more here with p99 < 50 ms (a well-known Python push monitor does about 150).
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    child_env,
    free_port,
    median,
    percentile,
    proc_cpu_s,
    py_spy,
    python,
    save,
    say,
    table,
)

PUSH_SET = """\
apiVersion: kubekuma.io/v1alpha1
kind: MonitorSet
metadata: {{name: jobs, namespace: bench}}
spec:
  template: {{type: push, interval: 1h}}
  items:
{items}
"""


def _tokens(db_path: Path, want: int, timeout: float = 120.0) -> list[str]:
    from app.store import Store

    store = Store(f"sqlite:///{db_path}")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            tokens = [r.status.get("pushToken") for r in store.resources.list(kind="Monitor")]
            found = [t for t in tokens if t]
            if len(found) >= want:
                return found
            time.sleep(0.5)
    finally:
        store.close()
    raise RuntimeError("push tokens did not appear")


def _load(port: int, tokens: list[str], seconds: float, threads: int, out: Any) -> None:
    """One load process: `threads` keep-alive connections, round-robin over tokens."""
    import threading

    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i, mine = offset, []
        while time.monotonic() < stop_at:
            token = tokens[i % len(tokens)]
            i += threads
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"/api/push/{token}?status=up&msg=ok&ping=3")
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    with lock:
                        errors[0] += 1
                    continue
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put((lat, errors[0]))


def _first_pushes(port: int, tokens: list[str], db_path: Path, threads: int = 8) -> None:
    """One push per token (each monitor's first check, and its transition to UP)."""
    import threading

    def push(mine: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 120
        for token in mine:
            while time.monotonic() < deadline:  # the server may still be starting
                try:
                    conn.request("GET", f"/api/push/{token}?status=up&msg=first")
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.2)
        conn.close()

    ts = [threading.Thread(target=push, args=(tokens[k::threads],)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    import sqlite3

    deadline = time.monotonic() + 120
    with sqlite3.connect(db_path) as db:  # the transitions to UP are handled in the background
        pending = "SELECT COUNT(*) FROM kk_transitions WHERE status = 'pending'"
        while db.execute(pending).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.5)
    time.sleep(1.0)


def main(quick: bool = False, profile: bool = False) -> dict[str, Any]:
    monitors = 1000
    seconds = 8.0 if quick else 20.0
    procs, threads = 2, 8
    say(
        f"== push ingestion: {monitors} push monitors on SQLite, "
        f"{procs}x{threads} keep-alive clients, {seconds:.0f}s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "m", Path(tmp) / "kk.db"
        folder.mkdir()
        items = "\n".join(f"    - {{name: j{i}}}" for i in range(monitors))
        (folder / "push.yaml").write_text(PUSH_SET.format(items=items))
        port = free_port()
        server = subprocess.Popen(
            [
                python(),
                "-m",
                "app.cli",
                "run",
                "--manifests",
                str(folder),
                "--listen",
                f"127.0.0.1:{port}",
                "--database-url",
                f"sqlite:///{db}",
            ],
            env=child_env(KUBEKUMA_LOG_LEVEL="WARNING"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            tokens = _tokens(db, monitors)
            ctx = mp.get_context("spawn")
            q: Any = ctx.Queue()
            # warm-up: build the token index, open connections, and push every token once, so the
            # window measures pushes to known monitors, not each monitor's first UP and its alert path
            _first_pushes(port, tokens, db)
            warm = ctx.Process(target=_load, args=(port, tokens, 2.0, 4, q))
            warm.start()
            q.get()
            warm.join()
            cpu0 = proc_cpu_s(server.pid)
            t0 = time.perf_counter()
            spy = py_spy(server.pid, seconds - 1, "push-server") if profile else None
            loaders = [
                ctx.Process(target=_load, args=(port, tokens[k::procs], seconds, threads, q))
                for k in range(procs)
            ]
            for p in loaders:
                p.start()
            lat: list[float] = []
            errors = 0
            for _ in loaders:
                part, err = q.get()
                lat += part
                errors += err
            for p in loaders:
                p.join()
            wall = time.perf_counter() - t0
            cpu = proc_cpu_s(server.pid) - cpu0
            if spy is not None:
                spy.wait(30)
        finally:
            server.terminate()
            server.wait(20)
    rate = len(lat) / wall
    result = {
        "monitors": monitors,
        "seconds": round(wall, 1),
        "pushes": len(lat),
        "errors": errors,
        "pushes_per_s": round(rate, 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "median_ms": round(median(lat) * 1000, 2),
        "server_cpu_ms_per_push": round(cpu / max(1, len(lat)) * 1000, 3),
    }
    say(
        table(
            [
                [
                    result["pushes_per_s"],
                    result["p50_ms"],
                    result["p99_ms"],
                    result["server_cpu_ms_per_push"],
                    errors,
                    "≥ 1,500/s, p99 < 50 ms",
                ]
            ],
            ["pushes/s", "p50 ms", "p99 ms", "server CPU ms/push", "errors", "target"],
        )
    )
    save("push", result)
    return result


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.push", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a shorter window")
    ap.add_argument("--profile", action="store_true", help="py-spy the server during the window")
    args = ap.parse_args()
    main(args.quick, args.profile)
