"""The ping checker: real ICMP to 127.0.0.1 (needs root or CAP_NET_RAW, skipped without)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.checkers.ping import NO_RAW_SOCKET
from app.model import FailureClass

pytestmark = pytest.mark.timeout(30)


def _raw_sockets_allowed() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except PermissionError:
        return False
    return True


RAW = _raw_sockets_allowed()
needs_raw = pytest.mark.skipif(not RAW, reason="raw ICMP sockets are not permitted here")


@needs_raw
@pytest.mark.parametrize(
    ("count", "size"), [(1, 56), (3, 56), (2, 1400)], ids=["one", "three", "large-packets"]
)
def test_ping_loopback(run, count, size) -> None:
    result = run("ping", {"host": "127.0.0.1", "count": count, "packetSize": size})
    assert result.ok, result.reason
    assert result.reason.startswith(f"{count}/{count} replies, avg ")
    d = result.details
    assert (d["sent"], d["received"], d["lossPercent"]) == (count, count, 0)
    assert 0 <= d["rttMinMs"] <= d["rttAvgMs"] <= d["rttMaxMs"] < 1000
    assert result.latency_ms == d["rttAvgMs"]


@needs_raw
def test_ping_by_name(run) -> None:
    result = run("ping", {"host": "localhost", "count": 1})
    assert result.ok, result.reason
    assert result.details["address"] == "127.0.0.1"


def test_unresolvable(run) -> None:
    result = run("ping", {"host": "nothing.invalid"})
    assert (result.ok, result.failure) == (False, FailureClass.DNS)


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(RAW and not SETPRIV, reason="raw sockets are permitted and setpriv cannot drop them")
def test_without_net_raw_the_reason_says_what_to_grant(run) -> None:
    """Without CAP_NET_RAW, as a locked-down pod runs: in this process if it lacks it, else in a child."""
    if not RAW:
        result = run("ping", {"host": "127.0.0.1", "count": 1})
        failure, reason = result.failure, result.reason
    else:
        code = (
            "from app.checkers import run_check; from app.checkers.base import CheckContext\n"
            "from app.resources.monitor import MonitorSpec; from app.resources.loader import SecretStore\n"
            "spec = MonitorSpec.model_validate({'type': 'ping', 'ping': {'host': '127.0.0.1', 'count': 1}})\n"
            "r = run_check(spec, CheckContext('u', 'm', 'default', SecretStore({}, {})))\n"
            "print(r.failure); print(r.reason)\n"
        )
        root = Path(__file__).resolve().parents[2]
        drop = [str(SETPRIV), "--bounding-set=-net_raw", "--inh-caps=-net_raw"]
        proc = subprocess.run(
            [*drop, sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=30
        )
        assert proc.returncode == 0, proc.stderr
        failure, reason = proc.stdout.strip().splitlines()
    assert failure == FailureClass.PERMISSION
    assert reason == NO_RAW_SOCKET
    assert "NET_RAW" in reason
