"""The kinds besides Monitor: sets, notification, pages, muting, auth and settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from app.resources.common import Duration, LabelSelector, Model, ObjectRef, SecretKeyRef
from app.resources.recurrence import build_rule
from app.resources.regex import compile_pattern


class MonitorSetItem(Model):
    """One member: a name plus the fields that differ from the template (deep-merged)."""

    model_config = Model.model_config | {"extra": "allow"}
    name: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    labels: dict[str, str] = Field(default_factory=dict)


class MonitorSetSpec(Model):
    template: dict[str, Any]
    items: list[MonitorSetItem] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _unique(cls, v: list[MonitorSetItem]) -> list[MonitorSetItem]:
        names = [i.name for i in v]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"item names must be unique; repeated: {', '.join(sorted(dup))}")
        return v


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


ProviderType = Literal[
    "slack", "discord", "telegram", "smtp", "webhook", "gotify", "pushover", "apprise",
    "teams", "mattermost", "googlechat", "matrix", "ntfy", "pagerduty", "opsgenie", "alertmanager",
]  # fmt: skip
PROVIDER_TYPES: tuple[str, ...] = get_args(ProviderType)


class NotificationProviderSpec(Model):
    """One destination. The settings of `type` sit under a key of that name; credentials are Secret refs."""

    model_config = Model.model_config | {"extra": "allow"}
    type: ProviderType
    enabled: bool = True

    @model_validator(mode="after")
    def _settings(self) -> NotificationProviderSpec:
        extra = dict(self.model_extra or {})
        if self.type not in extra or not isinstance(extra[self.type], dict):
            raise ValueError(f"type {self.type} needs the field {self.type} with its settings")
        stray = [k for k in extra if k != self.type]
        if stray:
            raise ValueError(f"unknown field(s) {', '.join(stray)} for a {self.type} provider")
        return self

    @property
    def settings(self) -> dict[str, Any]:
        return dict((self.model_extra or {})[self.type])


class MessageTemplate(Model):
    title: str | None = None
    body: str | None = None


Trigger = Literal["down", "up", "flapping", "certificateExpiring"]


def _default_triggers() -> list[Trigger]:
    return ["down", "up"]


class NotificationPolicySpec(Model):
    priority: int = 100
    monitorSelector: LabelSelector = Field(default_factory=LabelSelector)
    namespaces: list[str] = Field(default_factory=list, description="empty = the policy's own namespace")
    monitorNames: list[str] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=_default_triggers)
    providers: list[ObjectRef] = Field(min_length=1)
    dedupWindow: Duration = 0.0
    repeatInterval: Duration = 0.0
    continue_: bool = Field(False, alias="continue")
    template: MessageTemplate = Field(default_factory=MessageTemplate)


class StatusPageGroup(Model):
    name: str = Field(min_length=1)
    monitors: list[ObjectRef] = Field(default_factory=list)
    selector: LabelSelector | None = None


# A logo is a URL or a small inline image (16 KiB of text); a larger one belongs behind a URL.
MAX_LOGO_CHARS = 16384
_LOGO = re.compile(
    r"(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\"'<>\\]*)?|data:image/[a-z0-9.+-]+(;base64)?,[^\s\"'<>\\]+)"
)


class StatusPageSpec(Model):
    slug: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    title: str = Field(min_length=1)
    description: str = ""
    groups: list[StatusPageGroup] = Field(default_factory=list)
    showIncidents: bool = True
    showMaintenance: bool = True
    showBadges: bool = True
    customDomains: list[str] = Field(default_factory=list)
    logo: str | None = Field(
        default=None,
        max_length=MAX_LOGO_CHARS,
        description="an http(s) URL of an image, or a data:image/... URI; shown beside the title",
        json_schema_extra={"pattern": f"^{_LOGO.pattern}$"},  # the API server checks it too
    )
    accentColor: str | None = Field(
        default=None,
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="#rrggbb; the page's header band, with black or white text, whichever reads better",
    )

    @field_validator("logo")
    @classmethod
    def _logo(cls, v: str | None) -> str | None:
        if v is not None and not _LOGO.fullmatch(v):
            raise ValueError("must be an http(s) URL or a data:image/... URI, without spaces or quotes")
        return v


def _tz(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Europe/Berlin") from None
    return v


class MaintenanceWindowSpec(Model):
    monitorSelector: LabelSelector = Field(default_factory=LabelSelector)
    monitors: list[ObjectRef] = Field(default_factory=list)
    start: datetime
    duration: Duration
    timezone: str = "UTC"
    rrule: str | None = None
    title: str = ""
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        return _tz(v)

    @field_validator("duration")
    @classmethod
    def _dur(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be above 0")
        return v

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        # Exactly what run time builds (app/alerting/maintenance.py); a bad start or zone is
        # reported on its own field, and the rule is still checked against a stand-in.
        start = info.data.get("start") or datetime(2000, 1, 1)
        build_rule(v, start, info.data.get("timezone") or "UTC")
        return v


class Matcher(Model):
    name: str = Field(min_length=1, description="a label key, or __name__ / __namespace__")
    operator: Literal["=", "!=", "=~", "!~"] = "="
    value: str  # a pattern's length is bounded by compile_pattern (CRDs stay as they are)

    @model_validator(mode="after")
    def _regex(self) -> Matcher:
        if self.operator in ("=~", "!~"):
            compile_pattern(self.value)  # linear-time RE2, or a ValueError saying why not
        return self


class SilenceSpec(Model):
    matchers: list[Matcher] = Field(min_length=1)
    startsAt: datetime
    endsAt: datetime
    comment: str = ""
    createdBy: str = ""

    @model_validator(mode="after")
    def _order(self) -> SilenceSpec:
        # A time without a zone is UTC, so a naive and an aware time compare instead of raising.
        starts, ends = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (self.startsAt, self.endsAt))
        if ends <= starts:
            raise ValueError("endsAt must be after startsAt")
        return self


Role = Literal["admin", "editor", "viewer"]


class LocalUserSpec(Model):
    username: str = Field(min_length=1, max_length=64)
    role: Role = "viewer"
    passwordHashSecretRef: SecretKeyRef
    totpSecretRef: SecretKeyRef | None = None
    disabled: bool = False


class ApiKeySpec(Model):
    role: Role = "viewer"
    scopes: list[str] = Field(default_factory=list)
    keyHashSecretRef: SecretKeyRef
    expiresAt: datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: list[str]) -> list[str]:
        for s in v:
            if not re.match(r"^[a-z]+:(read|write)$", s):
                raise ValueError(f"scope {s!r} is not RESOURCE:read or RESOURCE:write")
        return v


class Retention(Model):
    heartbeats: Duration = 30 * 86400.0
    incidents: Duration = Field(365 * 86400.0, description="closed incidents and their transitions")
    deliveries: Duration = 90 * 86400.0
    audit: Duration = 365 * 86400.0


class SchedulerSettings(Model):
    maxConcurrentChecks: int = Field(200, ge=1)
    defaultInterval: Duration = 60.0


class OidcSettings(Model):
    issuer: str
    clientId: str
    clientSecretRef: SecretKeyRef
    groupsClaim: str = "groups"
    roleMapping: dict[str, Role] = Field(default_factory=dict)


class AuthSettings(Model):
    oidc: OidcSettings | None = None
    local: dict[str, bool] = Field(default_factory=lambda: {"enabled": True})
    anonymousRead: bool = Field(False, description="let anyone read the API as a viewer without logging in")
    anonymousMetrics: bool = Field(False, description="let anyone scrape /metrics without a bearer token")
    sessionIdleTimeout: Duration = Field(12 * 3600.0, description="a session unused this long ends")
    sessionMaxAge: Duration = Field(7 * 86400.0, description="a session ends this long after login")


class KubeKumaSettingsSpec(Model):
    readOnly: bool = False
    retention: Retention = Field(default_factory=Retention)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    publicUrl: str | None = None
