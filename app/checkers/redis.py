"""Redis checks: connect, authenticate (password or ACL user), run a command or read an INFO field.

`PING` by default; `["GET", "key"]` or `infoField: role` with a `result` assertion to check
what Redis holds. The client makes one attempt, without retries, inside the deadline.
"""

from __future__ import annotations

from typing import Any

import redis
from redis import exceptions as rexc
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.checkers.base import CheckContext, register
from app.checkers.content import snippet
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.service import check_value, converse, has, password
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import RedisSpec


def explain(exc: BaseException, target: str) -> tuple[FailureClass, str] | None:
    text = str(exc)
    if isinstance(exc, rexc.AuthenticationError) or has(text, "wrongpass", "noauth", "invalid password"):
        return FailureClass.AUTH, f"Redis rejected the login: {text}"
    if isinstance(exc, rexc.NoPermissionError):
        return FailureClass.PERMISSION, f"Redis: {text}"
    if isinstance(exc, rexc.TimeoutError):
        return FailureClass.TIMEOUT, f"Redis did not answer in time: {text}"
    if isinstance(exc, rexc.ResponseError):
        if has(text, "unknown command", "wrong number of arguments", "syntax error"):
            return FailureClass.CONFIG, f"Redis refused the command: {text}"
        return FailureClass.PROTOCOL, f"Redis answered with an error: {text}"
    if isinstance(exc, rexc.ConnectionError) and not isinstance(exc.__context__, OSError):
        return FailureClass.PROTOCOL, f"Redis: {text}"
    return None


def text_of(reply: Any) -> str:
    if isinstance(reply, bytes):
        return reply.decode(errors="replace")
    if isinstance(reply, bool):  # redis-py turns +OK and +PONG into True
        return "OK" if reply else "0"
    return "" if reply is None else str(reply)


def ask(s: RedisSpec, client: redis.Redis) -> str:
    try:
        if s.infoField:
            info = client.info()
            if s.infoField not in info:
                raise CheckFailed(FailureClass.MISMATCH, f"INFO has no field {s.infoField!r}")
            return text_of(info[s.infoField])
        reply = client.execute_command(*s.command)
        return "PONG" if reply is True and s.command[0].upper() == "PING" else text_of(reply)
    finally:
        client.close()


@register(MonitorType.REDIS)
def check_redis(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: RedisSpec = spec.redis  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    what = f"INFO {s.infoField}" if s.infoField else " ".join(s.command[:2])
    try:
        kw: dict[str, Any] = {
            "host": s.host, "port": s.port, "db": s.db, "username": s.username, "password": password(s, ctx),
            "socket_timeout": deadline.remaining(), "socket_connect_timeout": deadline.remaining(),
            "retry": Retry(NoBackoff(), 0), "client_name": "kubekuma",
        }  # fmt: skip
        if s.tls:
            kw.update(ssl=True, ssl_cert_reqs="required" if s.tlsVerify else "none",
                      ssl_check_hostname=s.tlsVerify,
                      ssl_ca_data=optional_secret(s.caSecretRef, ctx, "caSecretRef"))  # fmt: skip
        client = redis.Redis(**kw)
        reply = converse(lambda: ask(s, client), deadline, target, explain)
        check_value(reply, s.result, what)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    return CheckResult.up(
        deadline.elapsed_ms(), f"{what} on {target}: {snippet(reply, 80)}", reply=snippet(reply)
    )
