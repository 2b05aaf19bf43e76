"""MQTT checks: connect (with credentials from a Secret), then a publish/subscribe round trip
of a fresh nonce on the topic, or a read of the topic's retained value.

The round trip proves the broker routes messages, not just that it accepts connections.
paho's network loop is driven here step by step, so every wait is bounded by the deadline.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from app.checkers.base import CheckContext, register
from app.checkers.content import snippet
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.service import check_value, converse, password, tls_context
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import MqttSpec

# How long after the subscription is granted a retained message may take to arrive:
# brokers send retained messages right behind SUBACK.
RETAINED_WAIT_S = 0.5
_AUTH_CODES = {4, 5, 134, 135}  # v3 bad credentials / not authorised; v5 the same


@dataclass
class Session:
    connected: int | None = None  # CONNACK reason code
    subscribed_at: float | None = None
    messages: list[tuple[bytes, bool]] = field(default_factory=list)


def explain(exc: BaseException, target: str) -> tuple[FailureClass, str] | None:
    return None  # paho raises plain socket errors; CONNACK codes are read in `talk`


def _loop_until(client: paho.Client, done: Any, deadline: Deadline, waiting_for: str) -> None:
    while not done():
        if deadline.expired():
            raise CheckFailed(FailureClass.TIMEOUT, f"no {waiting_for} within the timeout")
        rc = client.loop(timeout=min(0.05, deadline.remaining()))
        # A refused CONNACK ends the loop with an error, after on_connect has seen its code.
        if rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_AGAIN) and not done():
            raise CheckFailed(
                FailureClass.RESET, f"the broker closed the connection ({paho.error_string(rc)})"
            )


def talk(s: MqttSpec, client: paho.Client, deadline: Deadline) -> str:
    state = Session()
    nonce = f"kubekuma-{secrets.token_hex(8)}"
    client.on_connect = lambda c, u, flags, rc, props: setattr(state, "connected", rc.value)
    client.on_subscribe = lambda c, u, mid, rcs, props: setattr(state, "subscribed_at", time.monotonic())
    client.on_message = lambda c, u, msg: state.messages.append((bytes(msg.payload), bool(msg.retain)))
    client.connect(s.host, s.port, keepalive=max(5, int(deadline.seconds) + 5))
    try:
        _loop_until(client, lambda: state.connected is not None, deadline, "CONNACK from the broker")
        if state.connected in _AUTH_CODES:
            raise CheckFailed(
                FailureClass.AUTH, f"the broker refused the login: {paho.connack_string(state.connected)}"
            )
        if state.connected != 0:
            raise CheckFailed(
                FailureClass.PROTOCOL, f"the broker refused the connection (code {state.connected})"
            )
        client.subscribe(s.topic, qos=s.qos)
        _loop_until(client, lambda: state.subscribed_at is not None, deadline, "SUBACK for " + s.topic)
        if s.mode == "retained":
            settle = min(deadline.end, time.perf_counter() + RETAINED_WAIT_S)
            while not any(retained for _, retained in state.messages) and time.perf_counter() < settle:
                client.loop(timeout=0.02)
            value = next((p for p, retained in state.messages if retained), None)
            if value is None:
                raise CheckFailed(FailureClass.MISMATCH, f"no retained message on {s.topic}")
            return value.decode(errors="replace")
        client.publish(s.topic, nonce.encode(), qos=s.qos)
        _loop_until(
            client, lambda: any(p == nonce.encode() for p, _ in state.messages), deadline,
            f"round trip of our message on {s.topic}",
        )  # fmt: skip
        return nonce
    finally:
        client.disconnect()


@register(MonitorType.MQTT)
def check_mqtt(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: MqttSpec = spec.mqtt  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    try:
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=s.clientId or f"kubekuma-{secrets.token_hex(6)}"
        )
        secret = password(s, ctx)
        if s.username is not None or secret is not None:
            client.username_pw_set(s.username or "", secret)
        tls = tls_context(s, ctx)
        if tls is not None:
            client.tls_set_context(tls)
            client.tls_insecure_set(not s.tlsVerify)
        client.connect_timeout = deadline.remaining()
        got = converse(lambda: talk(s, client, deadline), deadline, target, explain)
        if s.mode == "retained":
            check_value(got, s.result, f"the retained value of {s.topic}")
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    if s.mode == "retained":
        return CheckResult.up(
            deadline.elapsed_ms(), f"{s.topic} holds {snippet(got, 80)!r}", value=snippet(got)
        )
    return CheckResult.up(deadline.elapsed_ms(), f"round trip on {s.topic} via {target}")
