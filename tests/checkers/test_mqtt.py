"""The mqtt checker against the machine's Mosquitto, and a private one with a password file."""

from __future__ import annotations

import getpass
import secrets as pysecrets
import subprocess
from collections.abc import Iterator

import paho.mqtt.publish as publish
import pytest

from app.model import FailureClass
from tests.external import binary, free_port, wait_until

from .services import HOST, require

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def retained_topic() -> Iterator[str]:
    port = require("mqtt")
    topic = f"kubekuma/test/{pysecrets.token_hex(4)}"
    publish.single(topic, "ready", retain=True, hostname=HOST, port=port)
    yield topic
    publish.single(topic, b"", retain=True, hostname=HOST, port=port)  # clears the retained message


@pytest.fixture(scope="module")
def private_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A Mosquitto of our own that wants user `probe` with password `s3cret`."""
    mosquitto = binary("mosquitto", "mosquitto")
    folder = tmp_path_factory.mktemp("mosquitto")
    passwd = folder / "passwd"
    subprocess.run(
        [binary("mosquitto_passwd", "mosquitto"), "-b", "-c", str(passwd), "probe", "s3cret"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    conf = folder / "mosquitto.conf"
    # `user`: started as root, Mosquitto would switch to its own user, which cannot read our tmp dir.
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwd}\nuser {getpass.getuser()}\n"
    )
    proc = subprocess.Popen(
        [mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _listening(port), 10, "private mosquitto")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex((HOST, port)) == 0


def test_round_trip(run) -> None:
    result = run("mqtt", {"host": HOST, "port": require("mqtt"), "topic": "kubekuma/test/probe"})
    assert result.ok, result.reason
    assert "round trip on kubekuma/test/probe" in result.reason


def test_retained_value(run, retained_topic) -> None:
    port = require("mqtt")
    ok = run(
        "mqtt",
        {
            "host": HOST,
            "port": port,
            "mode": "retained",
            "topic": retained_topic,
            "result": {"value": "ready"},
        },
    )
    assert ok.ok and ok.details["value"] == "ready", ok.reason
    wrong = run(
        "mqtt",
        {
            "host": HOST,
            "port": port,
            "mode": "retained",
            "topic": retained_topic,
            "result": {"value": "draining"},
        },
    )
    assert wrong.failure is FailureClass.MISMATCH and "expected == 'draining'" in wrong.reason
    none = run("mqtt", {"host": HOST, "port": port, "mode": "retained", "topic": retained_topic + "/empty"})
    assert none.failure is FailureClass.MISMATCH and "no retained message" in none.reason


def test_credentials(run, secrets, private_broker: int) -> None:
    secrets["mqtt"] = {"good": "s3cret", "bad": "guess"}
    base = {"host": HOST, "port": private_broker, "username": "probe"}
    ok = run("mqtt", {**base, "passwordSecretRef": {"name": "mqtt", "key": "good"}})
    assert ok.ok, ok.reason
    bad = run("mqtt", {**base, "passwordSecretRef": {"name": "mqtt", "key": "bad"}})
    assert bad.failure is FailureClass.AUTH and "refused the login" in bad.reason
    anonymous = run("mqtt", {"host": HOST, "port": private_broker})
    assert anonymous.failure is FailureClass.AUTH, anonymous.reason


def test_refused_and_not_mqtt(run, closed_port, tcp_server) -> None:
    assert run("mqtt", {"host": HOST, "port": closed_port}).failure is FailureClass.REFUSED
    silent = tcp_server("silent")
    result = run("mqtt", {"host": HOST, "port": silent.port}, timeout="0.5s")
    assert result.failure is FailureClass.TIMEOUT and "CONNACK" in result.reason
