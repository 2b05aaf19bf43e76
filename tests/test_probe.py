"""The liveness file of the roles without HTTP: touched while the role runs, stale once it stops."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.probe import fresh, start_heartbeat


def test_the_heartbeat_keeps_the_file_fresh_until_the_role_stops(tmp_path: Path) -> None:
    path = tmp_path / "worker.alive"
    assert not fresh(path, 60, time.time())  # no file yet: not alive
    stop = threading.Event()
    thread = start_heartbeat("worker", stop, every=0.05, path=path)
    time.sleep(0.2)
    assert fresh(path, 1, time.time())
    stop.set()
    thread.join(1)
    assert not thread.is_alive()
    os.utime(path, (time.time() - 120, time.time() - 120))
    assert not fresh(path, 60, time.time()) and fresh(path, 300, time.time())


def test_the_probe_command_exits_non_zero_for_a_role_that_never_beat(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "app.probe", "scheduler"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 1 and "kubekuma-scheduler.alive" in out.stderr
    (tmp_path / "kubekuma-scheduler.alive").touch()
    ok = subprocess.run(
        [sys.executable, "-m", "app.probe", "scheduler"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0
