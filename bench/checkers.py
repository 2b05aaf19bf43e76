"""CPU cost of one check, per checker, against local targets: what a worker pays per scheduled check.

The targets run in a child process so that `time.process_time()` in this process counts
the checker alone (its helper threads included), not the servers answering it. Each
checker runs a few warm-up checks, then several batches; the table shows the median
over batches of CPU and wall milliseconds per check.

    .venv/bin/python -m bench.checkers
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WARMUP = 3
BATCHES = 7
PER_BATCH = 40


def _targets(conn: Connection) -> None:
    """Child process: start every target, report ports and the CA, serve until told to stop."""
    from tests.checkers import servers as s

    pki = s.make_pki(Path(tempfile.mkdtemp(prefix="kubekuma-bench-")))
    web = s.TlsHttpServer(("127.0.0.1", 0), s.TargetHandler)
    tls_web = s.TlsHttpServer(("127.0.0.1", 0), s.TargetHandler)
    tls_web.ssl_context = pki.server_context(pki.leaves["good"])
    echo = s.TcpServer(("127.0.0.1", 0), s.tcp_handler("echo"))
    ws = s.TcpServer(("127.0.0.1", 0), s.WebsocketHandler)
    api = s.KubeApi()
    api.add("deployments", "default", "web", spec={"replicas": 2}, status={"readyReplicas": 2})
    kube = s.TlsHttpServer(("127.0.0.1", 0), s.kube_handler(api))
    for server in (web, tls_web, echo, ws, kube):
        s.serve_in_thread(server)
    dns_server = s.DnsServer()
    a2s = s.A2sResponder("challenge")
    conn.send(
        {
            "web": web.server_address[1],
            "tls_web": tls_web.server_address[1],
            "echo": echo.server_address[1],
            "ws": ws.server_address[1],
            "kube": kube.server_address[1],
            "dns": dns_server.port,
            "a2s": a2s.port,
            "ca": pki.ca_pem,
        }
    )
    conn.recv()  # the parent is done


def _cases(ports: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    web, tls = f"http://127.0.0.1:{ports['web']}", f"https://127.0.0.1:{ports['tls_web']}"
    ca = {"caSecretRef": {"name": "ca", "key": "ca.crt"}}
    return [
        ("http", {"type": "http", "http": {"url": f"{web}/ok"}}),
        (
            "http+keyword+json",
            {
                "type": "http",
                "http": {
                    "url": f"{web}/json",
                    "keyword": {"value": "ok"},
                    "jsonQuery": {"path": "$.status", "expected": "ok"},
                },
            },
        ),
        ("https (verify, cert details)", {"type": "http", "http": {"url": f"{tls}/ok", "tls": ca}}),
        ("tcp", {"type": "tcp", "tcp": {"host": "127.0.0.1", "port": ports["echo"]}}),
        (
            "tcp send/expect",
            {
                "type": "tcp",
                "tcp": {"host": "127.0.0.1", "port": ports["echo"], "send": "hi", "expect": "hi"},
            },
        ),
        ("tls", {"type": "tls", "tls": {"host": "127.0.0.1", "port": ports["tls_web"], **ca}}),
        ("dns", {"type": "dns", "dns": {"name": "www.test", "server": "127.0.0.1", "port": ports["dns"]}}),
        (
            "websocket",
            {
                "type": "websocket",
                "websocket": {"url": f"ws://127.0.0.1:{ports['ws']}/", "send": "a", "expect": "A"},
            },
        ),
        ("ping (1 echo)", {"type": "ping", "ping": {"host": "127.0.0.1", "count": 1}}),
        ("steam", {"type": "steam", "steam": {"host": "127.0.0.1", "port": ports["a2s"]}}),
        ("kubernetes", {"type": "kubernetes", "kubernetes": {"kind": "Deployment", "name": "web"}}),
    ]


def _measure(check: Callable[[], Any], batches: int, per_batch: int) -> tuple[float, float, bool]:
    """Median CPU ms and wall ms per check over the batches, and whether the last check was UP."""
    result = None
    for _ in range(WARMUP):
        result = check()
    cpu, wall = [], []
    for _ in range(batches):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(per_batch):
            result = check()
        cpu.append((time.process_time() - c0) * 1000 / per_batch)
        wall.append((time.perf_counter() - w0) * 1000 / per_batch)
    return statistics.median(cpu), statistics.median(wall), bool(result and result.ok)


def main(quick: bool = False) -> None:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_targets, args=(child,), daemon=True)
    proc.start()
    try:
        ports = parent.recv()
        _run(ports, 3 if quick else BATCHES, 10 if quick else PER_BATCH)
    finally:
        parent.send("stop")
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()


def _run(ports: dict[str, Any], batches: int, per_batch: int) -> None:
    import requests
    from kubernetes import client

    from app.checkers import run_check
    from app.checkers.base import CheckContext
    from app.resources.loader import SecretStore
    from app.resources.monitor import MonitorSpec
    from bench.common import save, say, table

    store = SecretStore({("default", "ca"): {"ca.crt": ports["ca"]}}, environ={})
    kube = client.ApiClient(client.Configuration(host=f"http://127.0.0.1:{ports['kube']}"))
    rows = []
    say(
        f"== checkers: CPU per check (median of {batches} batches of {per_batch}), targets in another process"
    )
    with requests.Session() as session:
        ctx = CheckContext("bench", "bench", "default", store, session=session, kube=kube)
        for name, manifest in _cases(ports):
            spec = MonitorSpec.model_validate({"timeout": "5s", **manifest})
            cpu, wall, ok = _measure(lambda spec=spec: run_check(spec, ctx), batches, per_batch)
            rows.append((name, round(cpu, 3), round(wall, 3), "UP" if ok else "DOWN"))
    kube.close()
    say(table(rows, ["checker", "CPU ms/check", "wall ms/check", "result"]))
    save("checkers", {"batches": batches, "perBatch": per_batch, "rows": rows})


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
