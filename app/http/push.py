"""`/api/push/{token}`: results that the monitored job sends itself.

Compatible with Uptime Kuma push clients (`?status=up|down&msg=...&ping=...`) and with
healthchecks-style suffixes: `/start` marks a run as started, `/fail` reports a failure,
`/{exit-code}` reports success on 0 and failure otherwise; the run time from `/start` to
the result becomes the heartbeat's latency. An unknown token is a 404 and stores nothing;
each token is rate-limited. Pushes that arrive together are recorded in one transaction
(app.http.group_commit); each is answered once the transaction holding it has committed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog, MonitorEntry
from app.http.group_commit import GroupCommit
from app.http.security import read_body
from app.model import CheckResult, FailureClass, MonitorSnapshot
from app.resources.monitor import MonitorType
from app.store import PushToRecord, Recorded, Store


class TokenBucket:
    """Per-key token buckets: `burst` at once, `rate` per second sustained."""

    def __init__(
        self, rate: float = 10.0, burst: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True


def _digest(token: str) -> str:
    # Looked up by digest: the table holds no tokens, and lookup time says nothing about them.
    return hashlib.sha256(token.encode()).hexdigest()


class TokenIndex:
    """token -> monitor uid, rebuilt when the resource cache moves (or on a miss, at most once a second)."""

    def __init__(self, store: Store, catalog: Catalog, secrets: Any) -> None:
        self.store, self.catalog, self.secrets = store, catalog, secrets
        self._tokens: dict[str, str] = {}
        self._revision = -2
        self._miss_rebuild = 0.0
        self._lock = threading.Lock()

    def _token_of(self, m: MonitorEntry, status: dict[str, Any]) -> str | None:
        ref = m.spec.push.tokenSecretRef if m.spec.push else None
        if ref is not None:
            try:
                return str(self.secrets.require(ref, m.namespace))
            except Exception:
                return None
        token = status.get("pushToken")
        return str(token) if token else None

    def _build(self) -> None:
        tokens: dict[str, str] = {}
        status = {r.uid: r.status for r in self.store.resources.list(kind="Monitor")}
        for m in self.catalog.monitors():
            if m.spec.type == MonitorType.PUSH:
                token = self._token_of(m, status.get(m.uid, {}))
                if token:
                    tokens[_digest(token)] = m.uid
        self._tokens = tokens
        self._revision = self.catalog.revision

    def lookup(self, token: str) -> str | None:
        with self._lock:
            self.catalog.refresh()
            if self._revision != self.catalog.revision:
                self._build()
            uid = self._tokens.get(_digest(token))
            if uid is None and time.monotonic() - self._miss_rebuild > 1.0:
                # A monitor or token written a moment ago; unknown tokens cost one rebuild a second at most.
                self._miss_rebuild = time.monotonic()
                self.catalog.refresh(force=True)
                self._build()
                uid = self._tokens.get(_digest(token))
            return uid


# Milliseconds from 0 to 3600000, ASCII digits, at most 6 decimals; published in the OpenAPI document.
PING_PATTERN = r"^(([0-9]{1,6}|[1-2][0-9]{6}|3[0-5][0-9]{5})(\.[0-9]{1,6})?|3600000)$"
# start, fail, or an exit code 0-255 without leading zeros.
ACTION_PATTERN = r"^(start|fail|[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$"
_DECIMAL = re.compile(PING_PATTERN)
_ACTION = re.compile(ACTION_PATTERN)
MAX_DEPTH = 4  # {"status": ..., "msg": ..., "ping": ...} is one level; anything deeper is not ours


def parse_ping(raw: Any) -> float | None:
    """Milliseconds, 0-3600000: a JSON number or ASCII decimal text; NaN, infinities and "２４" are not."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("ping must be a number of milliseconds")
    if isinstance(raw, str):
        if not _DECIMAL.search(raw):
            raise ValueError("ping must be milliseconds written with ASCII digits, e.g. 120 or 12.5")
        raw = float(raw.rstrip("\n"))
    ping = float(raw)
    if not math.isfinite(ping) or not 0 <= ping <= 3_600_000:
        raise ValueError("ping must be milliseconds between 0 and 3600000")
    return ping


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json_body(data: bytes) -> dict[str, Any]:
    """A push body as JSON: finite numbers only, shallow; ValueError otherwise."""
    if not data.strip():
        return {}
    if data.count(b"[") + data.count(b"{") > 64:
        raise ValueError("the JSON body is nested or repeated far deeper than a push needs")
    try:
        body = json.loads(data, parse_constant=_reject_constant)
    except (RecursionError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not JSON: {type(exc).__name__}") from None
    return body if isinstance(body, dict) else {}


def parse_push(action: str | None, params: dict[str, Any]) -> tuple[str, bool, str, float | None]:
    """-> (kind, ok, message, ping_ms). kind is 'start' or 'result'. Raises ValueError on bad input."""
    raw_msg = params.get("msg")
    msg = (raw_msg if isinstance(raw_msg, str) else "")[:500]
    ping = parse_ping(params.get("ping"))
    status = params.get("status", "up")
    if status not in ("up", "down"):
        raise ValueError("status must be up or down")
    if action is not None and action.endswith("\n"):
        action = action[:-1]  # as the published pattern reads it (`$` also matches before a final newline)
    if action == "start":
        return "start", True, msg, ping
    if action == "fail":
        return "result", False, msg or "the job reported a failure", ping
    if action is not None:
        if not _ACTION.search(action):
            raise ValueError(f"unknown push action {action[:40]!r}; use start, fail or an exit code 0-255")
        code = int(action.rstrip("\n"))
        return "result", code == 0, msg or ("exit code 0" if code == 0 else f"exit code {code}"), ping
    return (
        "result",
        status == "up",
        msg or ("push received" if status == "up" else "the job reported down"),
        ping,
    )


class PushEndpoint:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        secrets: Any,
        on_transition: Callable[[int], object],
        clock: Callable[[], datetime],
        in_maintenance: Callable[[Any, datetime], bool],
        limiter: TokenBucket | None = None,
        window_s: float = 0.002,
    ) -> None:
        self.store, self.catalog = store, catalog
        self.index = TokenIndex(store, catalog, secrets)
        self.on_transition, self.clock, self.in_maintenance = on_transition, clock, in_maintenance
        self.limiter = limiter or TokenBucket()
        # Pushes that arrive together share one transaction; each waits for its own commit.
        self.writer: GroupCommit[PushToRecord, Recorded | None] = GroupCommit(
            store.push.record_pushes, window_s=window_s, name="push-group-commit"
        )

    def _handle(self, req: falcon.Request, resp: falcon.Response, token: str, action: str | None) -> None:
        uid = self.index.lookup(token)
        entry = self.catalog.monitor(uid) if uid else None
        if entry is None or not entry.spec.enabled:
            raise falcon.HTTPNotFound(title="Not found", description="unknown push token")
        if not self.limiter.allow(token):
            raise falcon.HTTPTooManyRequests(
                description="too many pushes for this monitor; slow down", retry_after=1
            )
        params: dict[str, Any] = dict(req.params)
        try:
            if req.method == "POST" and req.content_type and "json" in req.content_type:
                body = parse_json_body(read_body(req))
                params.update({k: v for k, v in body.items() if k in ("status", "msg", "ping")})
            kind, ok, msg, ping = parse_push(action, params)
        except ValueError as exc:
            raise falcon.HTTPBadRequest(title="Invalid push", description=str(exc)) from None
        now = self.clock()
        if kind == "start":
            self.store.push.mark_start(entry.uid, now)
            resp.media = {"ok": True, "started": True}
            return
        policy = RetryPolicy(entry.spec.retries, entry.spec.upsideDown)
        maintenance = self.in_maintenance(entry, now)

        def make_result(started: datetime | None) -> CheckResult:
            run_ms = round((now - started).total_seconds() * 1000, 2) if started else None
            details: dict[str, Any] = {"push": True}
            if run_ms is not None:
                details["runSeconds"] = run_ms / 1000
            latency = ping if ping is not None else run_ms
            return CheckResult(ok, latency, msg, None if ok else FailureClass.PUSHED_DOWN, details)

        def decide(result: CheckResult, prev: MonitorSnapshot | None) -> Any:
            return next_state(prev, result, policy, maintenance, now)

        recorded = self.writer.submit(PushToRecord(entry.uid, make_result, decide, now))
        if recorded is None:  # deleted a moment ago
            raise falcon.HTTPNotFound(title="Not found", description="unknown push token")
        if recorded.transition_id is not None:
            self.on_transition(recorded.transition_id)
        resp.media = {"ok": True, "state": recorded.decision.snapshot.state.value}

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, token: str, action: str | None = None
    ) -> None:
        self._handle(req, resp, token, action)

    on_post = on_get
    on_head = on_get


def register(app: falcon.App, endpoint: PushEndpoint) -> None:
    app.add_route("/api/push/{token}", endpoint)
    app.add_route("/api/push/{token}/{action}", endpoint)
