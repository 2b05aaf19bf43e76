"""Apprise: hand the message to an Apprise API server, which fans it out to its services.

Stateful (`key`: the server holds the service URLs under that key) or stateless
(`urlsSecretRef`: Apprise URLs, which embed credentials, from a Secret). The probe fetches
the server's front page: Apprise's maintainers suggest that, and it posts nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef

TYPES = {"critical": "failure", "warning": "warning", "info": "info"}


class AppriseSettings(Settings):
    url: str = Field(description="the Apprise API server, e.g. http://apprise:8000")
    key: str | None = Field(None, description="a configuration key stored on the server")
    urlsSecretRef: SecretKeyRef | None = Field(None, description="Apprise URLs to notify (stateless)")
    tag: str | None = Field(None, description="only the server's URLs with this tag (with key)")

    @model_validator(mode="after")
    def _one(self) -> AppriseSettings:
        if (self.key is None) == (self.urlsSecretRef is None):
            raise ValueError("give exactly one of key or urlsSecretRef")
        return self


def payload(msg: Message, s: AppriseSettings) -> dict[str, Any]:
    kind = "success" if msg.action == "resolve" else TYPES.get(msg.severity, "info")
    out: dict[str, Any] = {"title": msg.title, "body": msg.body or msg.title, "type": kind, "format": "text"}
    if s.tag and s.key:
        out["tag"] = s.tag
    return out


@register
class AppriseNotifier(Notifier[AppriseSettings]):
    type = "apprise"
    settings_model = AppriseSettings

    def send(self, msg: Message, s: AppriseSettings, ctx: NotifyContext) -> None:
        base = s.url.rstrip("/")
        body = payload(msg, s)
        if s.key:
            url = f"{base}/notify/{s.key}"
        else:
            url = f"{base}/notify/"
            body["urls"] = ctx.secret(s.urlsSecretRef, "spec.apprise.urlsSecretRef")  # type: ignore[arg-type]
        resp = request(ctx, "apprise", "POST", url, json=body, timeout=s.timeout)
        if resp.status_code == 204:
            raise NotifierError(
                f"apprise: the server has no configuration under key {s.key!r}", permanent=True
            )

    def probe(self, s: AppriseSettings, ctx: NotifyContext) -> bool:
        ctx.optional_secret(s.urlsSecretRef, "spec.apprise.urlsSecretRef")
        request(ctx, "apprise", "GET", s.url.rstrip("/") + "/", timeout=s.timeout)
        return True
