"""CPU cost of one check for the monitor types with client libraries: databases, brokers, gRPC,
SMTP, and the group type, against the machine's servers (PostgreSQL, MariaDB, Redis,
RabbitMQ, Mosquitto, NATS) and, for gRPC and SMTP, servers in a child process.

Every server runs in another process, so `time.process_time()` here counts the checker
alone (its helper threads and event loops included). A type whose server is not reachable
is listed as skipped. The group check reads 20 member states from a SQLite store.

    .venv/bin/python -m bench.services
"""

from __future__ import annotations

import multiprocessing as mp
import socket
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.checkers import _measure  # noqa: E402 - after the path fix-up, like the other benchmarks

LOCAL = {"postgres": 5432, "mysql": 3306, "redis": 6379, "amqp": 5672, "mqtt": 1883, "nats": 4222}


def _targets(conn: Connection) -> None:
    """Child process: a gRPC health server and an SMTP server; report their ports, serve until told."""
    from concurrent import futures

    import grpc
    from aiosmtpd.controller import Controller
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        smtp_port = s.getsockname()[1]

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    smtp = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    conn.send({"grpc": grpc_port, "smtp": smtp_port})
    conn.recv()
    smtp.stop()
    server.stop(None)


def _up(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _cases(ports: dict[str, int]) -> list[tuple[str, dict[str, Any]]]:
    h = "127.0.0.1"
    return [
        ("postgres (SELECT 1)", {"type": "postgres", "postgres": {"host": h}}),
        ("mysql (SELECT 1)", {"type": "mysql", "mysql": {"host": h}}),
        ("redis (PING)", {"type": "redis", "redis": {"host": h}}),
        ("redis (INFO role)", {"type": "redis", "redis": {"host": h, "infoField": "role"}}),
        ("mqtt (round trip)", {"type": "mqtt", "mqtt": {"host": h, "topic": "kubekuma/bench"}}),
        ("amqp (connect)", {"type": "amqp", "amqp": {"host": h}}),
        ("nats (round trip)", {"type": "nats", "nats": {"host": h}}),
        ("grpc (health)", {"type": "grpc", "grpc": {"host": h, "port": ports["grpc"]}}),
        ("smtp (greeting, EHLO)", {"type": "smtp", "smtp": {"host": h, "port": ports["smtp"]}}),
    ]


def _group_store(folder: Path) -> Any:
    """A SQLite store holding 20 checked monitors labelled tier=web and one group over them."""
    from datetime import UTC, datetime

    from app.alerting.state import RetryPolicy, next_state
    from app.controller.folder import records_from
    from app.model import CheckResult
    from app.resources.loader import load_folder
    from app.store import Store

    docs = [
        "apiVersion: kubekuma.io/v1alpha1\nkind: Monitor\n"
        f"metadata: {{name: web-{i}, namespace: default, labels: {{tier: web}}}}\n"
        f"spec: {{type: tcp, tcp: {{host: 127.0.0.1, port: {8000 + i}}}}}\n"
        for i in range(20)
    ]
    (folder / "m.yaml").write_text("---\n".join(docs))
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    store.resources.sync(records_from(load_folder(folder, "default"))[0])
    now = datetime.now(UTC)
    for r in store.resources.list(kind="Monitor"):
        store.checks.record(
            r.uid,
            CheckResult.up(1.0),
            lambda prev: next_state(prev, CheckResult.up(1.0), RetryPolicy(), False, now),
            now,
        )
    return store


def main(quick: bool = False) -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_targets, args=(child,), daemon=True)
    proc.start()
    try:
        ports = parent.recv()
        _run(ports, 3 if quick else 7, 10 if quick else 30)
    finally:
        parent.send("stop")
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()


def _run(ports: dict[str, int], batches: int, per_batch: int) -> None:
    from app.checkers import run_check
    from app.checkers.base import CheckContext
    from app.resources.loader import SecretStore
    from app.resources.monitor import MonitorSpec
    from bench.common import save, say, table

    secrets = SecretStore({}, environ={})
    say(
        f"== services: CPU per check (median of {batches} batches of {per_batch}), servers in other processes"
    )
    rows = []
    for name, manifest in _cases(ports):
        kind = manifest["type"]
        if kind in LOCAL and not _up(LOCAL[kind]):
            rows.append((name, "-", "-", f"skipped: nothing on 127.0.0.1:{LOCAL[kind]}"))
            continue
        spec = MonitorSpec.model_validate({"timeout": "5s", **manifest})
        check_ctx = CheckContext("bench", "bench", "default", secrets)
        cpu, wall, ok = _measure(lambda spec=spec, c=check_ctx: run_check(spec, c), batches, per_batch)
        rows.append((name, round(cpu, 3), round(wall, 3), "UP" if ok else "DOWN"))
    with tempfile.TemporaryDirectory(prefix="kubekuma-bench-group-") as folder:
        store = _group_store(Path(folder))
        spec = MonitorSpec.model_validate(
            {"type": "group", "group": {"selector": {"matchLabels": {"tier": "web"}}}}
        )
        gctx = CheckContext("bench", "group", "default", secrets, store=store)
        cpu, wall, ok = _measure(lambda: run_check(spec, gctx), batches, per_batch)
        rows.append(("group (20 members, SQLite)", round(cpu, 3), round(wall, 3), "UP" if ok else "DOWN"))
        store.close()
    say(table(rows, ["checker", "CPU ms/check", "wall ms/check", "result"]))
    save("services", {"batches": batches, "perBatch": per_batch, "rows": rows})


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
