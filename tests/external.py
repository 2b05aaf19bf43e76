"""Real third-party servers for the integration tests: Prometheus, Alertmanager and friends.

Each is a Debian binary started on a free loopback port in a temporary folder and stopped
after the test. When the binary is not installed (`make test` installs it through
scripts/ensure-services.sh), the test is skipped, naming the package to install.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binary(name: str, package: str) -> str:
    """The path of an installed program, or skip the test saying which package brings it."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install {package}; `make services` does it)")
    return found


def wait_until(probe: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if probe():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout:g}s")


@contextmanager
def process(argv: list[str], ready: str, cwd: Path, timeout: float = 30.0) -> Iterator[subprocess.Popen[Any]]:
    """Run `argv` until the context ends; wait for GET `ready` to answer 200 first."""
    log = (cwd / f"{Path(argv[0]).name}.log").open("wb")
    proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{argv[0]} exited: {(cwd / log.name).read_text()[-2000:]}")
            return requests.get(ready, timeout=1).status_code == 200

        wait_until(up, timeout, f"{argv[0]} ready at {ready}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app with waitress on a free loopback port; its base URL."""
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
