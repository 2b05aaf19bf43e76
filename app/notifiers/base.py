"""The notifier interface: one module per provider type, each registered by its type name.

Like healthchecks' transports, a notifier has a pure payload builder (tested as a table)
beside `send`, and says whether a failure is worth retrying: `NotifierError(permanent=True)`
for what a retry cannot fix (bad credentials, a refused request, a broken configuration),
`permanent=False` for an outage. `probe` tests connectivity where the service allows it
without a visible message, and returns False where it does not.

Credentials come from Secrets through the context, which remembers every value it
revealed so that error text is scrubbed of them before it is logged or stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.resources.common import Duration, SecretKeyRef


class NotifierError(Exception):
    """A failed send. `maybe_delivered`: the request went out but no clear answer came back (a read
    timeout, a dropped connection), so the service may have taken the message."""

    def __init__(self, message: str, permanent: bool = False, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.maybe_delivered = maybe_delivered


class Secrets(Protocol):
    """Resolves a SecretKeyRef in a namespace (app.resources.loader.SecretStore fits)."""

    def require(self, ref: Any, namespace: str) -> str: ...


class Action(enum.StrEnum):
    """What an event does to an alert in an incident tool (PagerDuty, Opsgenie)."""

    TRIGGER = "trigger"
    RESOLVE = "resolve"


_RESOLVING = {"up", "flappingEnded"}
_SEVERITY = {"down": "critical", "reminder": "critical", "up": "info", "flapping": "warning",
             "flappingEnded": "info", "certificateExpiring": "warning"}  # fmt: skip


@dataclass(slots=True)
class Message:
    """One notification as every provider sees it: the rendered text plus the facts behind it."""

    event: str  # down, up, reminder, flapping, flappingEnded, certificateExpiring
    title: str
    body: str
    monitor: str
    namespace: str
    monitor_uid: str
    time: datetime
    key: str = ""  # the delivery's identity: receivers can use it to drop duplicates
    state: str = ""
    previous_state: str = ""
    reason: str = ""
    url: str = ""
    latency_ms: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> Action:
        return Action.RESOLVE if self.event in _RESOLVING else Action.TRIGGER

    @property
    def severity(self) -> str:
        return _SEVERITY.get(self.event, "info")

    @property
    def alert_key(self) -> str:
        """Groups trigger and resolve of one alert (PagerDuty dedup_key, Opsgenie alias)."""
        base = f"kubekuma-{self.monitor_uid}"
        if self.event in ("flapping", "flappingEnded"):
            return base + "-flapping"
        if self.event == "certificateExpiring":
            return base + "-certificate"
        return base

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}" if self.body else self.title


@dataclass
class NotifyContext:
    """What a notifier may use besides its settings. Everything with I/O is injected."""

    namespace: str  # the provider's namespace: where its Secrets live
    secrets: Secrets
    session: requests.Session
    revealed: list[str] = field(default_factory=list)

    def secret(self, ref: SecretKeyRef, what: str) -> str:
        try:
            value = self.secrets.require(ref, self.namespace)
        except Exception as exc:  # SecretError: names the reference, never a value
            raise NotifierError(f"{what}: {exc}", permanent=True) from None
        if value:
            self.revealed.append(value)
        return value

    def optional_secret(self, ref: SecretKeyRef | None, what: str) -> str | None:
        return None if ref is None else self.secret(ref, what)

    def redact(self, text: str) -> str:
        for value in sorted(self.revealed, key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text


class Settings(BaseModel):
    """Base of every provider's settings: unknown fields are errors, as in the manifests."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    timeout: Duration = Field(10.0, description="how long to wait for the service")


S = TypeVar("S", bound=Settings)
SettingsModel = type[Settings]  # named here: inside Notifier, `type` is the provider type's name


class Notifier(Generic[S]):
    type: ClassVar[str]
    settings_model: ClassVar[SettingsModel]
    # Which default templates suit it: chat, mail, push or incident (see app.alerting.templates).
    style: ClassVar[str] = "chat"

    def parse(self, raw: dict[str, Any]) -> S:
        """Validated settings, or a permanent error naming each bad field under spec.<type>."""
        try:
            return self.settings_model.model_validate(raw)  # type: ignore[return-value]
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in ("spec", self.type, *err["loc"]))
                problems.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
            raise NotifierError("; ".join(problems), permanent=True) from None

    def send(self, msg: Message, settings: S, ctx: NotifyContext) -> None:
        raise NotImplementedError

    def probe(self, settings: S, ctx: NotifyContext) -> bool:
        """Test connectivity and credentials without a visible message. False: no such test exists."""
        return False


REGISTRY: dict[str, Notifier[Any]] = {}

N = TypeVar("N", bound=type[Notifier[Any]])


def register(cls: N) -> N:
    REGISTRY[cls.type] = cls()
    return cls
