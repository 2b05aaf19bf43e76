"""The nats checker against the machine's NATS (JetStream on), and a private one wanting a password."""

from __future__ import annotations

import asyncio
import secrets as pysecrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from app.model import FailureClass
from tests.external import binary, free_port, wait_until

from .services import HOST, require

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def stream() -> Iterator[str]:
    name = f"KUBEKUMA_TEST_{pysecrets.token_hex(4).upper()}"
    port = require("nats")

    async def admin(create: bool) -> None:
        nc = await nats.connect(f"nats://{HOST}:{port}")
        js = nc.jetstream()
        if create:
            await js.add_stream(name=name, subjects=[f"{name.lower()}.>"])
        else:
            await js.delete_stream(name)
        await nc.close()

    try:
        asyncio.run(admin(True))
    except Exception as exc:  # JetStream off on this machine's server
        pytest.skip(f"the local NATS has no JetStream: {exc!r}")
    yield name
    asyncio.run(admin(False))


@pytest.fixture(scope="module")
def private_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A nats-server of our own wanting user `probe` with password `s3cret` (no JetStream)."""
    server = binary("nats-server", "nats-server")
    port = free_port()
    folder: Path = tmp_path_factory.mktemp("nats")
    proc = subprocess.Popen(
        [server, "-a", HOST, "-p", str(port), "--user", "probe", "--pass", "s3cret"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: _listening(port), 10, "private nats")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex((HOST, port)) == 0


def test_round_trip_and_stream(run, stream) -> None:
    port = require("nats")
    ok = run("nats", {"host": HOST, "port": port})
    assert ok.ok and ok.details["server"].startswith("nats-server "), ok.reason
    with_stream = run("nats", {"host": HOST, "port": port, "stream": stream})
    assert with_stream.ok and with_stream.details["streamMessages"] == 0, with_stream.reason
    assert f"stream {stream} present" in with_stream.reason
    missing = run("nats", {"host": HOST, "port": port, "stream": stream + "_GONE"})
    assert missing.failure is FailureClass.MISMATCH and "no such stream" in missing.reason


def test_credentials_and_no_jetstream(run, secrets, private_nats: int) -> None:
    secrets["nats"] = {"good": "s3cret", "bad": "guess"}
    base = {"host": HOST, "port": private_nats, "username": "probe"}
    ok = run("nats", {**base, "passwordSecretRef": {"name": "nats", "key": "good"}})
    assert ok.ok, ok.reason
    bad = run("nats", {**base, "passwordSecretRef": {"name": "nats", "key": "bad"}})
    assert bad.failure is FailureClass.AUTH and "authorization violation" in bad.reason
    no_js = run("nats", {**base, "passwordSecretRef": {"name": "nats", "key": "good"}, "stream": "ANY"})
    assert no_js.failure is FailureClass.PROTOCOL and "JetStream is not enabled" in no_js.reason


def test_refused_and_silent(run, closed_port, tcp_server) -> None:
    refused = run("nats", {"host": HOST, "port": closed_port})
    assert refused.failure is FailureClass.REFUSED and refused.latency_ms < 1000, refused.reason
    silent = tcp_server("silent")
    hung = run("nats", {"host": HOST, "port": silent.port}, timeout="0.5s")
    assert hung.failure is FailureClass.TIMEOUT, hung.reason
