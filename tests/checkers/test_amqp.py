"""The amqp checker against the machine's RabbitMQ (guest/guest on loopback)."""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Iterator

import pika
import pytest

from app.model import FailureClass

from .services import HOST, require

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue holding two messages and no consumer; deleted afterwards."""
    name = f"kubekuma-test-{pysecrets.token_hex(4)}"
    conn = pika.BlockingConnection(pika.ConnectionParameters(HOST, require("amqp")))
    ch = conn.channel()
    ch.queue_declare(name)
    for body in (b"one", b"two"):
        ch.basic_publish("", name, body)
    yield name
    ch.queue_delete(name)
    conn.close()


def test_queue_depth_and_consumers(run, queue) -> None:
    base = {"host": HOST, "port": require("amqp"), "queue": queue}
    ok = run("amqp", {**base, "maxMessages": 2})
    assert ok.ok and ok.details["messages"] == 2 and ok.details["consumers"] == 0, ok.reason
    assert ok.details["server"].startswith("RabbitMQ")
    backlog = run("amqp", {**base, "maxMessages": 1})
    assert backlog.failure is FailureClass.MISMATCH and "holds 2 messages, more than 1" in backlog.reason
    idle = run("amqp", {**base, "minConsumers": 1})
    assert idle.failure is FailureClass.MISMATCH and "0 consumers, fewer than 1" in idle.reason
    missing = run("amqp", {**base, "queue": queue + "-gone"})
    assert missing.failure is FailureClass.MISMATCH and "no queue" in missing.reason


def test_connection_failures(run, secrets, closed_port, tcp_server) -> None:
    port = require("amqp")
    assert run("amqp", {"host": HOST, "port": port}).ok
    secrets["rabbit"] = {"password": "not-guest"}
    bad = run(
        "amqp",
        {
            "host": HOST,
            "port": port,
            "username": "guest",
            "passwordSecretRef": {"name": "rabbit", "key": "password"},
        },
    )
    assert bad.failure is FailureClass.AUTH, bad.reason
    vhost = run("amqp", {"host": HOST, "port": port, "vhost": "kubekuma-no-such-vhost"})
    assert vhost.failure is FailureClass.PERMISSION and "vhost" in vhost.reason
    assert run("amqp", {"host": HOST, "port": closed_port}).failure is FailureClass.REFUSED
    silent = tcp_server("silent")
    hung = run("amqp", {"host": HOST, "port": silent.port}, timeout="0.5s")
    assert hung.failure is FailureClass.TIMEOUT, hung.reason


def test_queue_settings_need_a_queue() -> None:
    from pydantic import ValidationError

    from app.resources.services import AmqpSpec

    with pytest.raises(ValidationError, match="need a queue"):
        AmqpSpec.model_validate({"host": "rabbit", "maxMessages": 5})
