"""AMQP 0-9-1 (RabbitMQ) checks: connect and authenticate to a vhost; optionally inspect a queue.

A passive `queue.declare` reads a queue's depth and consumer count without creating or
changing it, so `maxMessages` and `minConsumers` catch a backlog or a dead consumer.
"""

from __future__ import annotations

from typing import Any

import pika
import pika.exceptions as pexc
from pika.adapters.utils import connection_workflow as workflow

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.service import converse, password, tls_context
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import AmqpSpec


def explain(exc: BaseException, target: str) -> tuple[FailureClass, str] | None:
    if isinstance(exc, pexc.ProbableAuthenticationError | pexc.AuthenticationError):
        return FailureClass.AUTH, "RabbitMQ refused the login (wrong user or password)"
    if isinstance(exc, pexc.ProbableAccessDeniedError):
        return FailureClass.PERMISSION, f"RabbitMQ denied access to the vhost: {exc}"
    if isinstance(exc, pexc.ChannelClosedByBroker):
        if exc.reply_code == 404:
            return FailureClass.MISMATCH, f"RabbitMQ: {exc.reply_text}"
        if exc.reply_code == 403:
            return FailureClass.PERMISSION, f"RabbitMQ: {exc.reply_text}"
        return FailureClass.PROTOCOL, f"RabbitMQ closed the channel: {exc.reply_code} {exc.reply_text}"
    if isinstance(exc, workflow.AMQPConnectorStackTimeout):
        return FailureClass.TIMEOUT, "the AMQP handshake did not finish in time (is it an AMQP 0-9-1 port?)"
    if isinstance(exc, pexc.IncompatibleProtocolError | pexc.StreamLostError):
        return FailureClass.PROTOCOL, f"not an AMQP 0-9-1 server, or it hung up: {exc!r}"
    for arg in exc.args:  # pika wraps the socket error of a failed phase in an argument
        if isinstance(arg, workflow.AMQPConnectorPhaseErrorBase):
            return classify(arg.exception, target)
    return None


def _text(v: Any) -> str:
    return v.decode(errors="replace") if isinstance(v, bytes) else str(v or "")


def inspect(s: AmqpSpec, params: pika.ConnectionParameters) -> dict[str, Any]:
    conn = pika.BlockingConnection(params)
    try:
        props = getattr(conn._impl, "server_properties", None) or {}
        info: dict[str, Any] = {
            "server": " ".join(_text(props.get(k)) for k in ("product", "version")).strip()
        }
        if s.queue is not None:
            ch = conn.channel()
            frame = ch.queue_declare(s.queue, passive=True)
            info.update(messages=frame.method.message_count, consumers=frame.method.consumer_count)
        return info
    finally:
        if conn.is_open:
            conn.close()


@register(MonitorType.AMQP)
def check_amqp(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: AmqpSpec = spec.amqp  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    try:
        tls = tls_context(s, ctx)
        params = pika.ConnectionParameters(
            host=s.host, port=s.port, virtual_host=s.vhost,
            credentials=pika.PlainCredentials(s.username or "guest", password(s, ctx) or "guest"),
            connection_attempts=1, retry_delay=0, socket_timeout=deadline.remaining(),
            stack_timeout=deadline.remaining(), blocked_connection_timeout=deadline.remaining(),
            ssl_options=pika.SSLOptions(tls, s.host) if tls is not None else None,
            client_properties={"connection_name": "kubekuma"},
        )  # fmt: skip
        info = converse(lambda: inspect(s, params), deadline, target, explain)
        if s.maxMessages is not None and info["messages"] > s.maxMessages:
            raise CheckFailed(
                FailureClass.MISMATCH,
                f"queue {s.queue} holds {info['messages']} messages, more than {s.maxMessages}",
                **info,
            )
        if s.minConsumers is not None and info["consumers"] < s.minConsumers:
            raise CheckFailed(
                FailureClass.MISMATCH,
                f"queue {s.queue} has {info['consumers']} consumers, fewer than {s.minConsumers}",
                **info,
            )
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    if s.queue is None:
        return CheckResult.up(deadline.elapsed_ms(), f"connected to {target} vhost {s.vhost}", **info)
    reason = f"queue {s.queue}: {info['messages']} messages, {info['consumers']} consumers"
    return CheckResult.up(deadline.elapsed_ms(), reason, **info)
