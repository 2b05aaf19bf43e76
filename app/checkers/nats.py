"""NATS checks: connect and authenticate, send a message to ourselves through the server, and
optionally require a JetStream stream.

nats-py is asyncio-only; each check runs it on a private event loop in the check's own
thread, so it never meets another check's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import nats
import nats.errors
import nats.js.errors

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.service import converse, has, password, tls_context
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import NatsSpec


def explain(exc: BaseException, target: str) -> tuple[FailureClass, str] | None:
    text = str(exc)
    if isinstance(exc, nats.errors.AuthorizationError) or has(text, "authorization violation"):
        return FailureClass.AUTH, "NATS refused the login (authorization violation)"
    if has(text, "permissions violation"):
        return FailureClass.PERMISSION, f"NATS: {text}"
    if isinstance(exc, nats.js.errors.NotFoundError):
        return FailureClass.MISMATCH, f"JetStream has no such stream: {exc.description or exc}"
    if isinstance(exc, nats.js.errors.ServiceUnavailableError | nats.errors.NoRespondersError):
        return FailureClass.PROTOCOL, "JetStream is not enabled on the server"
    if isinstance(exc, nats.errors.TimeoutError | asyncio.TimeoutError):
        return FailureClass.TIMEOUT, f"{target} did not answer in time"
    if isinstance(exc, nats.errors.UnexpectedEOF | nats.errors.StaleConnectionError):
        return FailureClass.RESET, f"{target} closed the connection"
    if isinstance(exc, nats.errors.Error) and not isinstance(exc.__context__, OSError):
        return FailureClass.PROTOCOL, f"NATS: {text or type(exc).__name__}"
    return None


async def connect(options: dict[str, Any]) -> Any:
    """nats.connect, but failing on the first error: nats-py would retry the server until the deadline."""
    failed = asyncio.Event()
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:  # replaces the default, which logs every error
        errors.append(exc)
        failed.set()

    attempt = asyncio.ensure_future(nats.connect(**options, error_cb=on_error))
    # Retrieve its outcome even when the deadline cancels us first, so asyncio does not log it.
    attempt.add_done_callback(lambda t: t.cancelled() or t.exception())
    alarm = asyncio.ensure_future(failed.wait())
    await asyncio.wait({attempt, alarm}, return_when=asyncio.FIRST_COMPLETED)
    alarm.cancel()
    if attempt.done():
        exc = attempt.exception()
        if exc is None:
            return attempt.result()
        raise errors[0] if errors else exc
    attempt.cancel()
    with contextlib.suppress(BaseException):
        await attempt
    raise errors[0]


async def talk(s: NatsSpec, options: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    nc = await connect(options)
    try:
        nonce = secrets.token_hex(8)
        subject = f"{s.subject}.{nonce}"
        sub = await nc.subscribe(subject, max_msgs=1)
        await nc.publish(subject, nonce.encode())
        try:
            await sub.next_msg(timeout=deadline.remaining())
        except nats.errors.TimeoutError:
            raise CheckFailed(
                FailureClass.TIMEOUT, f"our message on {subject} did not come back in time"
            ) from None
        v = nc.connected_server_version
        info: dict[str, Any] = {"server": f"nats-server {v.major}.{v.minor}.{v.patch}"}
        if s.stream is not None:
            si = await nc.jetstream(timeout=deadline.remaining()).stream_info(s.stream)
            info.update(streamMessages=si.state.messages, streamConsumers=si.state.consumer_count)
        return info
    finally:
        await nc.close()


@register(MonitorType.NATS)
def check_nats(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: NatsSpec = spec.nats  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    try:
        tls = tls_context(s, ctx)
        options: dict[str, Any] = {
            "servers": [f"{'tls' if tls else 'nats'}://{s.host}:{s.port}"], "name": "kubekuma",
            "connect_timeout": deadline.remaining(), "allow_reconnect": False, "max_reconnect_attempts": 0,
            "tls": tls, "user": s.username, "password": password(s, ctx),
            "token": optional_secret(s.tokenSecretRef, ctx, "tokenSecretRef"),
        }  # fmt: skip
        if tls is not None:
            options["tls_hostname"] = s.host

        def run() -> dict[str, Any]:
            return asyncio.run(asyncio.wait_for(talk(s, options, deadline), deadline.remaining()))

        info = converse(run, deadline, target, explain)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    what = f"; stream {s.stream} present" if s.stream else ""
    return CheckResult.up(deadline.elapsed_ms(), f"round trip on {s.subject} via {target}{what}", **info)
