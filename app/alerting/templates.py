"""Message templates: `{variable}` placeholders filled from an event, with defaults per provider style.

Templates come from manifests, so rendering must be safe: only plain names are looked up
(no attribute access or indexing, which `str.format` would otherwise allow), an unknown
name stays in the text as written so a typo shows instead of failing the alert, and a
missing value renders as `-`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.alerting.events import AlertEvent, EventKind

VARIABLES = (
    "monitorName", "namespace", "state", "previousState", "reason", "latency", "url", "incidentDuration",
    "time", "event", "daysLeft", "expiresIn", "expiresAt", "issuer", "flapPercent",
)  # fmt: skip


class _SafeFormatter(string.Formatter):
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def render(self, template: str) -> str:
        out = []
        try:
            parsed = list(self.parse(template))
        except ValueError:  # an unbalanced brace: show the template as written
            return template
        for literal, name, spec, conv in parsed:
            out.append(literal)
            if name is None:
                continue
            if name in self.values and not spec and not conv:
                out.append(self.values[name])
            else:  # unknown, attribute/index access or a format spec: leave it visible, never evaluate it
                out.append("{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
        return "".join(out)


def render(template: str, values: Mapping[str, str]) -> str:
    return _SafeFormatter(values).render(template)


def unknown_variables(template: str) -> list[str]:
    """Names in `template` that are not variables, for validation messages."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        return [f"bad template: {exc}"]
    return [n for n in names if n not in VARIABLES]


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    rest = round(seconds)
    if rest < 60:
        return f"{rest}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts[:2])


def safe_url(url: str) -> str:
    """A target URL without user:password, which may be a credential."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _days(days: Any) -> str:
    if not isinstance(days, int):
        return "-"
    return f"{days} day" if days == 1 else f"{days} days"


def iso(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def variables(event: AlertEvent, monitor_name: str, namespace: str, url: str) -> dict[str, str]:
    """Every template variable of an event as text."""
    x = event.extra
    latency = "-" if event.latency_ms is None else f"{event.latency_ms:.0f}"
    values = {
        "monitorName": monitor_name,
        "namespace": namespace,
        "state": event.state or "-",
        "previousState": event.previous_state or "-",
        "reason": event.reason or "-",
        "latency": latency,
        "url": safe_url(url) or "-",
        "incidentDuration": human_duration(event.incident_duration_s),
        "time": iso(event.at),
        "event": event.kind.value,
        "daysLeft": str(x.get("daysLeft", "-")),
        "expiresIn": _days(x.get("daysLeft")),
        "expiresAt": str(x.get("expiresAt", "-")),
        "issuer": str(x.get("issuer", "-")),
        "flapPercent": f"{x['flapPercent']:.0f}" if "flapPercent" in x else "-",
    }
    return values


# -- defaults -------------------------------------------------------------------------------------
# Styles: "chat" (short, one glance), "mail" (a subject and a full account), "push" (a phone
# notification: a few words), "incident" (PagerDuty/Opsgenie: the title is the alert summary).
_CHAT: dict[EventKind, tuple[str, str]] = {
    EventKind.DOWN: ("🔴 {monitorName} is DOWN", "{namespace}/{monitorName} is DOWN: {reason}\n{url}"),
    EventKind.UP: ("✅ {monitorName} is UP",
                   "{namespace}/{monitorName} is UP again after {incidentDuration} ({latency} ms).\n{url}"),
    EventKind.REMINDER: ("🔴 {monitorName} is still DOWN",
                         "{namespace}/{monitorName} has been DOWN for {incidentDuration}: {reason}\n{url}"),
    EventKind.FLAPPING: ("⚠️ {monitorName} is flapping",
                         "{namespace}/{monitorName} keeps changing state ({flapPercent}% of recent checks); "
                         "up/down notices pause until it settles. Now {state}: {reason}"),
    EventKind.FLAPPING_ENDED: ("{monitorName} stopped flapping",
                               "{namespace}/{monitorName} has settled and is {state}."),
    EventKind.CERTIFICATE: ("⚠️ Certificate of {monitorName} expires in {expiresIn}",
                            "The certificate of {url} ({namespace}/{monitorName}, issuer {issuer}) "
                            "expires on {expiresAt}."),
}  # fmt: skip

_MAIL_BODY = (
    "Monitor:   {namespace}/{monitorName}\nState:     {state} (was {previousState})\nReason:    {reason}\n"
    "Target:    {url}\nLatency:   {latency} ms\nIncident:  {incidentDuration}\nTime:      {time}\n"
)
_MAIL: dict[EventKind, tuple[str, str]] = {
    EventKind.DOWN: ("[KubeKuma] DOWN: {namespace}/{monitorName}", "{monitorName} is DOWN.\n\n" + _MAIL_BODY),
    EventKind.UP: ("[KubeKuma] UP: {namespace}/{monitorName}",
                   "{monitorName} is UP again after {incidentDuration}.\n\n" + _MAIL_BODY),
    EventKind.REMINDER: ("[KubeKuma] still DOWN: {namespace}/{monitorName}",
                         "{monitorName} has been DOWN for {incidentDuration}.\n\n" + _MAIL_BODY),
    EventKind.FLAPPING: ("[KubeKuma] flapping: {namespace}/{monitorName}",
                         "{monitorName} keeps changing state ({flapPercent}% of recent checks). Up and down "
                         "notices pause until it settles.\n\n" + _MAIL_BODY),
    EventKind.FLAPPING_ENDED: ("[KubeKuma] settled: {namespace}/{monitorName}",
                               "{monitorName} has stopped flapping.\n\n" + _MAIL_BODY),
    EventKind.CERTIFICATE: ("[KubeKuma] certificate expires in {expiresIn}: {namespace}/{monitorName}",
                            "The certificate of {url} expires on {expiresAt} ({expiresIn} left).\n"
                            "Issuer: {issuer}\nMonitor: {namespace}/{monitorName}\n"),
}  # fmt: skip

_PUSH: dict[EventKind, tuple[str, str]] = {
    EventKind.DOWN: ("{monitorName} is DOWN", "{reason}"),
    EventKind.UP: ("{monitorName} is UP", "back after {incidentDuration}"),
    EventKind.REMINDER: ("{monitorName} is still DOWN", "for {incidentDuration}: {reason}"),
    EventKind.FLAPPING: ("{monitorName} is flapping", "now {state}; notices pause until it settles"),
    EventKind.FLAPPING_ENDED: ("{monitorName} settled", "now {state}"),
    EventKind.CERTIFICATE: ("{monitorName}: certificate expires in {expiresIn}", "on {expiresAt}"),
}  # fmt: skip

_INCIDENT: dict[EventKind, tuple[str, str]] = {
    EventKind.DOWN: ("{namespace}/{monitorName} is DOWN: {reason}", "{url}"),
    EventKind.UP: ("{namespace}/{monitorName} is UP", "after {incidentDuration}"),
    EventKind.REMINDER: ("{namespace}/{monitorName} is still DOWN: {reason}", "{url}"),
    EventKind.FLAPPING: ("{namespace}/{monitorName} is flapping", "now {state}: {reason}"),
    EventKind.FLAPPING_ENDED: ("{namespace}/{monitorName} stopped flapping", "now {state}"),
    EventKind.CERTIFICATE: ("Certificate of {namespace}/{monitorName} expires in {expiresIn}",
                            "{url} expires on {expiresAt} (issuer {issuer})"),
}  # fmt: skip

DEFAULTS: dict[str, dict[EventKind, tuple[str, str]]] = {
    "chat": _CHAT, "mail": _MAIL, "push": _PUSH, "incident": _INCIDENT,
}  # fmt: skip


def render_message(
    kind: EventKind, values: Mapping[str, str], style: str = "chat",
    title: str | None = None, body: str | None = None,
) -> tuple[str, str]:  # fmt: skip
    """Title and body: the policy's template where it has one, the style's default otherwise."""
    d_title, d_body = DEFAULTS.get(style, _CHAT)[kind]
    return render(title or d_title, values), render(body or d_body, values)
