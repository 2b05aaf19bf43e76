"""Webhook: a JSON POST (or PUT) of the whole event to any URL, optionally signed with HMAC-SHA256.

The signature header is `X-KubeKuma-Signature: sha256=<hex>` over the exact body bytes, as
GitHub signs its webhooks; `X-KubeKuma-Delivery` carries the delivery's key, the same on
every retry, so a receiver can drop a duplicate. There is no silent connectivity test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Literal

from pydantic import Field, model_validator

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import NameValue, SecretKeyRef


class WebhookSettings(Settings):
    url: str | None = Field(None, description="where to send; or urlSecretRef when the URL is a secret")
    urlSecretRef: SecretKeyRef | None = None
    method: Literal["POST", "PUT"] = "POST"
    headers: list[NameValue] = Field(default_factory=list)
    signingSecretRef: SecretKeyRef | None = Field(
        None, description="HMAC-SHA256 key for X-KubeKuma-Signature"
    )

    @model_validator(mode="after")
    def _one_url(self) -> WebhookSettings:
        if (self.url is None) == (self.urlSecretRef is None):
            raise ValueError("give exactly one of url or urlSecretRef")
        return self


def payload(msg: Message) -> dict[str, Any]:
    return {
        "event": msg.event,
        "state": msg.state,
        "previousState": msg.previous_state or None,
        "title": msg.title,
        "message": msg.body,
        "reason": msg.reason,
        "latencyMs": msg.latency_ms,
        "time": msg.time.isoformat().replace("+00:00", "Z"),
        "key": msg.key,
        "monitor": {"name": msg.monitor, "namespace": msg.namespace, "uid": msg.monitor_uid,
                    "url": msg.url or None, "labels": msg.labels},
        **({"details": msg.extra} if msg.extra else {}),
    }  # fmt: skip


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@register
class WebhookNotifier(Notifier[WebhookSettings]):
    type = "webhook"
    settings_model = WebhookSettings

    def send(self, msg: Message, s: WebhookSettings, ctx: NotifyContext) -> None:
        url = s.url or ctx.secret(s.urlSecretRef, "spec.webhook.urlSecretRef")  # type: ignore[arg-type]
        body = json.dumps(payload(msg), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-KubeKuma-Event": msg.event,
                   "X-KubeKuma-Delivery": msg.key}  # fmt: skip
        for h in s.headers:
            if h.valueFrom is not None:
                headers[h.name] = ctx.secret(h.valueFrom.secretKeyRef, f"spec.webhook.headers[{h.name}]")
            else:
                headers[h.name] = h.value or ""
        key = ctx.optional_secret(s.signingSecretRef, "spec.webhook.signingSecretRef")
        if key is not None:
            if not key:
                raise NotifierError("spec.webhook.signingSecretRef: the key is empty", permanent=True)
            headers["X-KubeKuma-Signature"] = signature(key, body)
        request(ctx, "webhook", s.method, url, data=body, headers=headers, timeout=s.timeout)
