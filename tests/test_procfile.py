"""The Procfile as a user runs it: honcho starts the four roles on PostgreSQL and Redis, and a
monitor from the manifests folder is checked and shows UP through the web role's API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.access import write_reader
from tests.conftest import REDIS_URL
from tests.integration.test_embedded import MONITOR, wait_for
from tests.integration.test_processes import api_monitors, free_port
from tests.targets import http_target

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_the_procfile_runs_every_role_and_a_check_lands(tmp_path: Path, pg_url: str, redis_ns: str) -> None:
    from honcho.environ import parse_procfile

    procfile = parse_procfile((ROOT / "Procfile").read_text())
    assert dict(procfile.processes) == {
        role: f"kubekuma {role}" for role in ("web", "worker", "scheduler", "controller")
    }
    honcho = Path(sys.executable).parent / "honcho"
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "KUBEKUMA_DATABASE_URL": pg_url,
        "KUBEKUMA_REDIS_URL": REDIS_URL,
        "KUBEKUMA_REDIS_NAMESPACE": redis_ns,
        "KUBEKUMA_MANIFESTS": str(manifests),
        "KUBEKUMA_LISTEN": f"127.0.0.1:{port}",
        "KUBEKUMA_WORKER_THREADS": "2",
        "KUBEKUMA_KUBERNETES": "false",
    }
    log = tmp_path / "honcho.log"
    with http_target() as target, open(log, "wb") as out:
        (manifests / "web.yaml").write_text(MONITOR.format(name="web", interval="1s", url=target.url + "/ok"))
        write_reader(manifests)  # api_monitors reads with the committed reader key
        proc = subprocess.Popen(
            [str(honcho), "-f", str(ROOT / "Procfile"), "-d", str(tmp_path), "start"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def landed() -> bool:
                m = api_monitors(url).get("web")
                return bool(m and m["state"] == "UP" and m["lastCheckTime"])

            wait_for("a check through the Procfile's processes", landed, timeout=60)
            assert target.hits >= 1
            assert requests.get(url + "readyz", timeout=3).json()["checks"] == {
                "database": True,
                "broker": True,
            }
        finally:
            proc.send_signal(signal.SIGTERM)  # honcho passes it on to every process
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
    text = log.read_text(errors="replace")
    for role in ("web", "worker", "scheduler", "controller"):
        assert f"{role}.1 started" in text and f"{role}.1 stopped" in text, text[-3000:]
    assert proc.returncode is not None  # honcho and its processes stopped on SIGTERM
