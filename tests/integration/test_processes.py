"""The scaled-out shape as real processes: controller, scheduler, two workers and web
on PostgreSQL and Redis, fed by the same manifests as the embedded default."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.access import READER, write_reader
from tests.conftest import REDIS_URL
from tests.integration.test_embedded import MONITOR, wait_for
from tests.targets import http_target

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args], env=self.env, stdout=log, stderr=log
        )
        self.procs[name] = proc
        return proc

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, redis_ns: str) -> Iterator[tuple[Cluster, Path, str]]:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    write_reader(manifests)  # the tests read the API with a key, as a script would
    port = free_port()
    env = {
        **os.environ,
        "KUBEKUMA_DATABASE_URL": pg_url,
        "KUBEKUMA_REDIS_URL": REDIS_URL,
        "KUBEKUMA_REDIS_NAMESPACE": redis_ns,
        "KUBEKUMA_MANIFESTS": str(manifests),
        "KUBEKUMA_LISTEN": f"127.0.0.1:{port}",
        "KUBEKUMA_WORKER_THREADS": "4",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    c = Cluster(env, tmp_path)
    try:
        yield c, manifests, f"http://127.0.0.1:{port}/"
    finally:
        c.stop()


def api_monitors(url: str) -> dict[str, dict[str, Any]]:
    try:
        body = requests.get(url + "api/v1/monitors", timeout=3, headers=READER).json()
    except requests.RequestException:
        return {}
    return {m["name"]: m for m in body.get("items", [])}


def checks_of(url: str) -> dict[str, str | None]:
    return {name: m["lastCheckTime"] for name, m in api_monitors(url).items()}


def test_scaled_out_processes_survive_a_killed_worker(cluster: tuple[Cluster, Path, str]) -> None:
    c, manifests, url = cluster
    with http_target() as target:
        names = [f"svc-{i}" for i in range(6)]
        for n in names:
            (manifests / f"{n}.yaml").write_text(
                MONITOR.format(name=n, interval="1s", url=target.url + f"/{n}")
            )
        c.start("controller", "controller")
        c.start("scheduler", "scheduler")
        c.start("worker-1", "worker")
        c.start("worker-2", "worker")
        c.start("web", "web")

        def all_up() -> bool:
            ms = api_monitors(url)
            return len(ms) == len(names) and all(m["state"] == "UP" for m in ms.values())

        wait_for("every monitor UP through the processes", all_up, timeout=45)
        assert requests.get(url + "readyz", timeout=3).json()["checks"] == {"database": True, "broker": True}

        c.procs["worker-1"].send_signal(signal.SIGKILL)
        c.procs["worker-1"].wait(5)
        killed_at = time.time()
        seen = checks_of(url)

        def all_checked_again() -> bool:
            now = checks_of(url)
            return len(now) == len(names) and all(now[n] and now[n] != seen.get(n) for n in names)

        # Marks held by the dead worker expire (timeout + 10 s); then its monitors are checked again.
        wait_for("every monitor checked after the kill", all_checked_again, timeout=30)
        hits_after = target.hits
        time.sleep(3)
        assert target.hits > hits_after + len(names), "checks keep flowing on the surviving worker"
        assert time.time() - killed_at < 40
        for proc in ("controller", "scheduler", "worker-2", "web"):
            assert c.procs[proc].poll() is None, f"{proc} died:\n{c.log(proc)[-2000:]}"
