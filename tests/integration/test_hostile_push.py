"""Push URLs under abuse: odd numbers, hostile JSON, huge bodies; no 500, no token in a log line."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
import requests

from app.roles import Embedded
from tests.integration.test_push import PUSH, system, token_of

__all__ = ["system"]


@pytest.mark.parametrize(
    ("suffix", "params", "body", "content_type"),
    [
        ("", {"ping": "nan"}, None, None),
        ("", {"ping": "inf"}, None, None),
        ("", {"ping": "-0.5"}, None, None),
        ("", {"ping": "1e308"}, None, None),
        ("", {"ping": "２４"}, None, None),
        ("/٣", {}, None, None),
        ("/２", {}, None, None),
        ("", {}, b'{"ping": NaN}', "application/json"),
        ("", {}, b'{"ping": Infinity}', "application/json"),
        ("", {}, b'{"ping": true}', "application/json"),
        ("", {}, b'{"status": ["up"]}', "application/json"),
        ("", {}, b"[" * 30_000 + b"]" * 30_000, "application/json"),
        ("", {}, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json"),
        ("", {}, b"\xff\xfe not json", "application/json"),
    ],
    ids=[
        "ping-nan",
        "ping-inf",
        "ping-negative",
        "ping-huge",
        "ping-fullwidth",
        "exit-arabic-digit",
        "exit-fullwidth",
        "json-nan",
        "json-infinity",
        "json-bool",
        "json-list-status",
        "json-deep-list",
        "json-deep-object",
        "not-utf8",
    ],
)
def test_hostile_pushes_are_400_never_500(
    system: tuple[Embedded, Path],
    caplog: pytest.LogCaptureFixture,
    suffix: str,
    params: dict[str, str],
    body: bytes | None,
    content_type: str | None,
) -> None:
    sys_, folder = system
    (folder / "job.yaml").write_text(PUSH.format(name="nightly", interval="1m", push="{}"))
    token = token_of(sys_, "nightly")
    headers = {"Content-Type": content_type} if content_type else {}
    with caplog.at_level(logging.INFO):
        r = requests.post(
            sys_.url + f"api/push/{token}{suffix}", params=params, data=body, headers=headers, timeout=10
        )
    assert r.status_code == 400, r.text
    assert token not in caplog.text


def test_push_bodies_are_capped(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    (folder / "job.yaml").write_text(PUSH.format(name="nightly", interval="1m", push="{}"))
    token = token_of(sys_, "nightly")
    url = sys_.url + f"api/push/{token}"
    big = b'{"msg": "' + b"x" * (1024 * 1024) + b'"}'
    r = requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413

    def chunked():  # type: ignore[no-untyped-def]  # no Content-Length: the cap must hold while reading
        for _ in range(32):
            yield b" " * 65536

    r = requests.post(url, data=chunked(), headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413
    ok = requests.post(url, json={"status": "up", "ping": 12}, timeout=10)
    assert ok.status_code == 200 and ok.json()["state"] == "UP"


def test_a_failing_push_logs_no_token(
    system: tuple[Embedded, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Even an unexpected error names the path without its token."""
    sys_, folder = system
    (folder / "job.yaml").write_text(PUSH.format(name="nightly", interval="1m", push="{}"))
    token = token_of(sys_, "nightly")
    host, port = sys_.url.split("//")[1].rstrip("/").split(":")
    with caplog.at_level(logging.INFO), socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            f"GET /api/push/{token}?status=%FF%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        answer = s.recv(65536)
    assert b" 500 " not in answer.split(b"\r\n", 1)[0]
    assert token not in caplog.text
