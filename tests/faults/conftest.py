"""Fixtures of the fault suite: its own services, the scaled-out system, the embedded one.

Both systems live for the whole session (starting them is the slow part); each scenario
starts from a settled system and `System.heal` undoes whatever a failed one left behind.
Every process, server and temp folder is stopped and removed at the end, even on failure.
The figures of every scenario are printed at the end of the run and written to
`faults-report.txt` in pytest's temp folder.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import Processes, Records, clean_env
from tests.faults.harness import REPORTS, System, poll
from tests.faults.rig import Rig, monitor_names
from tests.faults.services import PostgresCluster, RedisServer, free_port

SCALED_ROLES = [
    ("controller", "controller"),
    ("scheduler-a", "scheduler"),
    ("scheduler-b", "scheduler"),
    ("worker-1", "worker"),
    ("worker-2", "worker"),
    ("worker-3", "worker"),
    ("web", "web"),
]
NAMESPACE = "kkfaults"
_report_file: list[Path] = []


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.remove()


def _bring_back(redis_server: RedisServer, postgres: PostgresCluster) -> list[str]:
    done = []
    if redis_server.proc is None:
        redis_server.start()
        done.append("restarted redis")
    try:
        postgres.connect().close()
    except Exception:
        postgres.start()
        done.append("restarted postgres")
    return done


@pytest.fixture(scope="session")
def scaled(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer, postgres: PostgresCluster
) -> Iterator[System]:
    """controller, two schedulers (a leads, b stands by), three workers and web on PostgreSQL + Redis."""
    root = tmp_path_factory.mktemp("scaled")
    _report_file.append(tmp_path_factory.getbasetemp() / "faults-report.txt")
    rig = Rig(root / "manifests", list(monitor_names(12)))
    port = free_port()
    env = clean_env(database_url=postgres.url, redis_url=redis_server.url, redis_namespace=NAMESPACE,
                    manifests=str(rig.folder), listen=f"127.0.0.1:{port}", worker_threads="4")  # fmt: skip
    procs = Processes(env, root / "logs")
    system = System(rig, procs, Records(postgres.url), f"http://127.0.0.1:{port}/",
                    redis=redis_server.client, namespace=NAMESPACE)  # fmt: skip
    system.on_heal.append(lambda: _bring_back(redis_server, postgres))
    try:
        for name, role in SCALED_ROLES:
            procs.start(name, role)
            if name == "scheduler-a":  # let it take the lease first, so b is the standby
                poll(lambda: system.lease_holder("scheduler") == "scheduler-a", 30)
        if not poll(system.all_up, 90):
            raise RuntimeError(f"the scaled-out system never came UP: {system.api()}")
        yield system
    finally:
        procs.stop()
        rig.close()
        dump(rig, root / "logs")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """`kubekuma run`: every role in one process, on SQLite and the in-memory broker (for its module only,
    so it does not load the machine while the scaled-out scenarios run)."""
    root = tmp_path_factory.mktemp("embedded")
    _report_file.append(tmp_path_factory.getbasetemp() / "faults-report.txt")
    rig = Rig(root / "manifests", list(monitor_names(8)))
    port = free_port()
    db = f"sqlite:///{root / 'kubekuma.db'}"
    env = clean_env(
        database_url=db, manifests=str(rig.folder), listen=f"127.0.0.1:{port}", worker_threads="4"
    )
    procs = Processes(env, root / "logs")
    system = System(rig, procs, Records(db), f"http://127.0.0.1:{port}/")
    try:
        procs.start("embedded", "run")
        if not poll(system.all_up, 60):
            raise RuntimeError(f"the embedded system never came UP: {system.api()}")
        yield system
    finally:
        procs.stop()
        rig.close()
        dump(rig, root / "logs")


def dump(rig: Rig, logs: Path) -> None:
    """The receiver's log and the flips, one JSON object a line, for reading a failure."""
    with open(logs / "receiver.jsonl", "w") as f:
        for m in rig.receiver.requests:
            f.write(json.dumps(dataclasses.asdict(m)) + "\n")
    with open(logs / "flips.jsonl", "w") as f:
        for flip in rig.targets.flips:
            f.write(json.dumps(dataclasses.asdict(flip)) + "\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS:
        return
    text = "\n\n".join(REPORTS)
    terminalreporter.write_sep("=", "fault suite: alert truth per scenario")
    terminalreporter.write_line(text)
    if _report_file:
        _report_file[0].write_text(text + "\n")
        terminalreporter.write_line(f"(also in {_report_file[0]})")
