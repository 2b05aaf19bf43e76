"""The steam checker against an A2S_INFO responder on 127.0.0.1, built per Valve's protocol."""

from __future__ import annotations

import time

import pytest

from app.model import FailureClass

from .servers import SLACK_S

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("mode", ["challenge", "plain"], ids=["with-challenge", "without-challenge"])
def test_server_info(run, a2s_server, mode) -> None:
    srv = a2s_server(mode)
    result = run("steam", {"host": "127.0.0.1", "port": srv.port})
    assert result.ok, result.reason
    assert result.reason == "KubeKuma Test Server on de_dust2: 7/16 players"
    d = result.details
    assert (d["name"], d["map"], d["game"], d["players"], d["maxPlayers"], d["bots"]) == (
        "KubeKuma Test Server",
        "de_dust2",
        "Counter-Strike",
        7,
        16,
        2,
    )
    assert d["vac"] is True and d["passwordProtected"] is False
    assert d["version"] == "1.38.7.9"
    assert 0 <= d["pingMs"] < 1000
    assert len(srv.requests) == (2 if mode == "challenge" else 1)


def test_garbage_reply_is_protocol(run, a2s_server) -> None:
    srv = a2s_server("garbage")
    result = run("steam", {"host": "127.0.0.1", "port": srv.port})
    assert (result.ok, result.failure) == (False, FailureClass.PROTOCOL)
    assert "not with a valid A2S_INFO reply" in result.reason


def test_silent_server_times_out_on_time(run, a2s_server) -> None:
    srv = a2s_server("silent")
    start = time.perf_counter()
    result = run("steam", {"host": "127.0.0.1", "port": srv.port}, timeout="0.5s")
    assert (result.ok, result.failure) == (False, FailureClass.TIMEOUT)
    assert "no A2S_INFO answer" in result.reason
    assert time.perf_counter() - start < 0.5 + SLACK_S


def test_nothing_listening_is_refused_not_a_timeout(run) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("steam", {"host": "127.0.0.1", "port": port})
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)
    assert "(UDP) refused" in result.reason
