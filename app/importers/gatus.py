"""Gatus: its YAML configuration (endpoints, external endpoints, alerting, maintenance).

An endpoint's URL scheme picks the monitor type (http(s), tcp, icmp, dns, starttls, tls,
ws(s)) and its conditions become the type's assertions where KubeKuma has one: status
codes, JSONPath comparisons, body patterns, DNS rcode and answers, certificate expiry.
An alert's `failure-threshold` becomes the monitor's retries, each alerting provider a
NotificationProvider, and the endpoints alerting to it a NotificationPolicy. Credentials
written as `${VAR}` (Gatus expands the environment) stay environment references; literal
ones go to Secrets. Whatever has no counterpart is reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from app.importers.bundle import Bundle, duration, label_value

_CONDITION = re.compile(
    r"^\s*(\[[A-Z_]+\](?:\.[^\s=<>!]+)?|len\(\[BODY\][^)]*\)|has\(\[BODY\][^)]*\))\s*"
    r"(==|!=|<=|>=|<|>)\s*(.+?)\s*$"
)
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_ENV = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_RESPONSE_TYPES = {"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "SOA", "PTR"}


def go_duration(text: Any) -> float | None:
    """Seconds of a Go duration ("1h30m", "90s", "500ms"); None when it is not one."""
    if isinstance(text, int | float):
        return float(text)
    found = _GO_DURATION.findall(str(text or ""))
    if not found or "".join(a + b for a, b in found) != str(text).strip():
        return None
    size = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * size[u] for n, u in found)


class Credentials:
    """`${VAR}` stays an environment reference; anything else is kept in a Secret."""

    def __init__(self, b: Bundle, owner: str) -> None:
        self.b, self.owner = b, owner

    def ref(self, key: str, value: Any) -> dict[str, str]:
        m = _ENV.match(str(value or ""))
        if m:
            self.b.environment.add(m.group(1))
            return {"env": m.group(1)}
        return self.b.secret(self.owner, key, str(value or ""))


# ---------------------------------------------------------------- conditions


def _status(op: str, value: str, s: dict[str, Any]) -> bool:
    codes = re.findall(r"\d{3}", value)
    if (value.startswith("any(") and op == "==" and codes) or (op == "==" and len(codes) == 1):
        s["acceptedStatusCodes"] = codes
    elif op in ("<", "<=") and len(codes) == 1:
        top = int(codes[0]) - (1 if op == "<" else 0)
        s["acceptedStatusCodes"] = [f"100-{top}"]
    else:
        return False
    return True


def _http_condition(left: str, op: str, value: str, s: dict[str, Any]) -> bool:
    if left == "[STATUS]":
        return _status(op, value, s)
    if left == "[BODY]" and op in ("==", "!=") and value.startswith("pat(") and value.endswith(")"):
        pattern = value[4:-1].strip("*")
        if "*" in pattern or not pattern:
            return False
        s["keyword"] = {"value": pattern, **({"invert": True} if op == "!=" else {})}
        return True
    if left.startswith("[BODY].") and not value.startswith(("pat(", "any(", "[")):
        path = "$" + left[len("[BODY]") :]
        expected: Any = value.strip('"')
        s["jsonQuery"] = {"path": path, "operator": op, "expected": expected}
        return True
    if left == "[CERTIFICATE_EXPIRATION]" and op in (">", ">="):
        seconds = go_duration(value)
        if seconds is None:
            return False
        s["certificateExpiry"] = {"warnDays": [max(1, int(seconds // 86400))]}
        return True
    return left == "[CONNECTED]" and value == "true"


# ---------------------------------------------------------------- endpoints


def _endpoint(e: dict[str, Any], where: str, owner: str, b: Bundle) -> tuple[str, dict[str, Any]] | None:
    url = str(e.get("url") or "")
    parts = urlsplit(url)
    scheme = parts.scheme
    conditions = [str(c) for c in e.get("conditions") or []]
    unmapped: list[str] = []
    s: dict[str, Any]
    if scheme in ("http", "https"):
        t, s = "http", {"url": url}
        if (e.get("method") or "GET").upper() != "GET":
            s["method"] = e["method"].upper()
        if e.get("body"):
            s["body"] = {"text": str(e["body"])}
        if e.get("headers"):
            s["headers"] = [{"name": str(k), "value": str(v)} for k, v in dict(e["headers"]).items()]
        if (e.get("client") or {}).get("insecure"):
            s["tls"] = {"verify": False}
        check = _http_condition
    elif scheme in ("tcp", "tls", "starttls", "icmp", "ws", "wss") or e.get("dns"):
        if e.get("dns"):
            dns = e["dns"]
            t, s = (
                "dns",
                {
                    "name": dns.get("query-name"),
                    "recordType": dns.get("query-type") or "A",
                    "server": parts.hostname or url.split(":")[0],
                },
            )
            if parts.port and parts.port != 53:
                s["port"] = parts.port
        elif scheme == "tcp":
            t, s = "tcp", {"host": parts.hostname, "port": parts.port}
        elif scheme == "tls":
            t, s = "tls", {"host": parts.hostname, "port": parts.port or 443}
        elif scheme == "starttls":
            t, s = "smtp", {"host": parts.hostname, "port": parts.port or 587, "security": "starttls"}
        elif scheme == "icmp":
            t, s = "ping", {"host": parts.hostname or url.removeprefix("icmp://")}
        else:
            t, s = "websocket", {"url": url}

        def check(left: str, op: str, value: str, s: dict[str, Any]) -> bool:
            if left == "[CONNECTED]" and value == "true":
                return True
            if t == "dns" and left == "[DNS_RCODE]" and op == "==":
                s["expectedRcode"] = value
                return True
            if t == "dns" and left == "[BODY]" and op == "==" and not value.startswith(("pat(", "any(")):
                s.setdefault("expected", []).append(value)
                return True
            if t in ("tls", "smtp") and left == "[CERTIFICATE_EXPIRATION]" and op in (">", ">="):
                seconds = go_duration(value)
                if seconds is not None:
                    s["warnDays"] = [max(1, int(seconds // 86400))]
                    return True
            return False
    else:
        b.skip(where, "the whole endpoint", f"KubeKuma has no type for {scheme or 'this'} URLs ({url})")
        return None
    for c in conditions:
        m = _CONDITION.match(c)
        if not (m and check(m.group(1), m.group(2), m.group(3), s)):
            unmapped.append(c)
    for c in unmapped:
        b.skip(where, f"condition {c!r}", "no counterpart")
    for key in ("graphql", "ssh", "ui", "extra-labels", "maintenance-windows"):
        if e.get(key):
            b.skip(where, key, "no counterpart")
    return t, s


def _monitors(cfg: dict[str, Any], b: Bundle) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Monitor manifests; the alerts of each, by alert type."""
    alerts: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for e in cfg.get("endpoints") or []:
        where = f"endpoint {e.get('name')!r}"
        name = b.name("Monitor", f"{e.get('group') or ''} {e.get('name') or 'endpoint'}".strip(), "endpoint")
        mapped = _endpoint(e, where, f"gatus-{name}", b)
        if mapped is None:
            continue
        t, settings = mapped
        spec: dict[str, Any] = {"type": t, t: settings, "description": e.get("name") or name}
        _common(e, spec, where, b, alerts, name)
        b.add("Monitor", name, spec, _labels(e), {"kubekuma.io/imported-from": "gatus endpoint"})
    for e in cfg.get("external-endpoints") or []:
        where = f"external endpoint {e.get('name')!r}"
        name = b.name("Monitor", f"{e.get('group') or ''} {e.get('name') or 'external'}".strip(), "external")
        push: dict[str, Any] = {}
        if e.get("token"):
            push["tokenSecretRef"] = Credentials(b, f"gatus-{name}").ref("push-token", e["token"])
        spec = {"type": "push", "push": push, "description": e.get("name") or name}
        interval = go_duration((e.get("heartbeat") or {}).get("interval"))
        if interval:
            spec["interval"] = duration(interval)
        else:
            b.skip(where, "heartbeat", "without heartbeat.interval the push monitor uses the 60s default")
        _common(e, spec, where, b, alerts, name, interval_key=False)
        b.add("Monitor", name, spec, _labels(e), {"kubekuma.io/imported-from": "gatus external endpoint"})
    return alerts


def _labels(e: dict[str, Any]) -> dict[str, str] | None:
    return {"gatus-group": label_value(str(e["group"]))} if e.get("group") else None


def _common(
    e: dict[str, Any],
    spec: dict[str, Any],
    where: str,
    b: Bundle,
    alerts: dict[str, list[tuple[str, dict[str, Any]]]],
    name: str,
    interval_key: bool = True,
) -> None:
    if e.get("enabled") is False:
        spec["enabled"] = False
    if interval_key:
        seconds = go_duration(e.get("interval") or "60s")
        spec["interval"] = duration(max(1, int(seconds or 60)))
    timeout = go_duration((e.get("client") or {}).get("timeout"))
    if timeout:
        spec["timeout"] = f"{min(timeout, 300):g}s"
    thresholds = set()
    for a in e.get("alerts") or []:
        if a.get("enabled") is False:
            continue
        thresholds.add(int(a.get("failure-threshold") or 3))
        if int(a.get("success-threshold") or 2) != 1:
            b.skip(
                where,
                f"alert {a.get('type')} success-threshold",
                "KubeKuma resolves on the first successful check",
            )
        if a.get("description"):
            b.skip(where, f"alert {a.get('type')} description", "use the policy's template")
        alerts.setdefault(str(a.get("type")), []).append((name, a))
    if thresholds:
        spec["retries"] = min(thresholds) - 1
        if len(thresholds) > 1:
            b.skip(where, "failure-threshold", f"alerts differ ({sorted(thresholds)}); the lowest is used")


# ---------------------------------------------------------------- alerting


def _provider(kind: str, c: dict[str, Any], cred: Credentials) -> tuple[str, dict[str, Any]] | None:
    def some(**kw: Any) -> dict[str, Any]:
        return {k: v for k, v in kw.items() if v not in (None, "")}

    hook = {"webhookUrlSecretRef": cred.ref("webhook-url", c.get("webhook-url"))}
    match kind:
        case "slack" | "discord" | "teams" | "googlechat":
            return kind, hook
        case "mattermost":
            return kind, {**hook, **some(channel=c.get("channel"))}
        case "telegram":
            return kind, some(
                botTokenSecretRef=cred.ref("bot-token", c.get("token")),
                chatId=str(c.get("id") or ""),
                apiUrl=c.get("api-url"),
            )
        case "email":
            s = some(
                host=c.get("host"),
                port=int(c.get("port") or 587),
                username=c.get("username"),
                **{"from": c.get("from")},
            )
            if c.get("password"):
                s["passwordSecretRef"] = cred.ref("password", c["password"])
            s["to"] = [a.strip() for a in str(c.get("to") or "").split(",") if a.strip()]
            return "smtp", s
        case "pagerduty":
            return kind, {"routingKeySecretRef": cred.ref("routing-key", c.get("integration-key"))}
        case "opsgenie":
            return kind, {"apiKeySecretRef": cred.ref("api-key", c.get("api-key"))}
        case "gotify":
            return kind, some(
                url=c.get("server-url"),
                tokenSecretRef=cred.ref("token", c.get("token")),
                priority=c.get("priority"),
            )
        case "ntfy":
            s = some(url=c.get("url"), topic=c.get("topic"), priority=c.get("priority"))
            if c.get("token"):
                s["tokenSecretRef"] = cred.ref("token", c["token"])
            return kind, s
        case "pushover":
            return kind, some(
                apiTokenSecretRef=cred.ref("api-token", c.get("application-token")),
                userKeySecretRef=cred.ref("user-key", c.get("user-key")),
                sound=c.get("sound"),
            )
        case "matrix":
            return kind, some(
                homeserverUrl=c.get("server-url"),
                roomId=c.get("internal-room-id"),
                accessTokenSecretRef=cred.ref("access-token", c.get("access-token")),
            )
        case "custom":
            return "webhook", some(
                urlSecretRef=cred.ref("url", c.get("url")), method=(c.get("method") or "POST").upper()
            )
    return None


_READ = {
    "slack": {"webhook-url"},
    "discord": {"webhook-url"},
    "teams": {"webhook-url"},
    "googlechat": {"webhook-url"},
    "mattermost": {"webhook-url", "channel"},
    "telegram": {"token", "id", "api-url"},
    "email": {"host", "port", "username", "password", "from", "to"},
    "pagerduty": {"integration-key"},
    "opsgenie": {"api-key"},
    "gotify": {"server-url", "token", "priority"},
    "ntfy": {"url", "topic", "priority", "token"},
    "pushover": {"application-token", "user-key", "sound"},
    "matrix": {"server-url", "internal-room-id", "access-token"},
    "custom": {"url", "method"},
}


def _alerting(cfg: dict[str, Any], alerts: dict[str, list[tuple[str, dict[str, Any]]]], b: Bundle) -> None:
    for kind, conf in (cfg.get("alerting") or {}).items():
        where = f"alerting provider {kind}"
        conf = conf or {}
        name = b.name("NotificationProvider", f"gatus-{kind}")
        mapped = _provider(kind, conf, Credentials(b, name))
        if mapped is None:
            b.skip(where, "the whole provider", f"KubeKuma has no {kind} provider")
            continue
        provider_type, settings = mapped
        for key in sorted(set(conf) - _READ.get(kind, set()) - {"default-alert"}):
            b.skip(where, key, "no counterpart")
        b.add("NotificationProvider", name, {"type": provider_type, provider_type: settings})
        users = alerts.get(kind, [])
        if not users:
            continue
        default = conf.get("default-alert") or {}
        triggers = ["down"]
        if any(a.get("send-on-resolved", default.get("send-on-resolved", False)) for _, a in users):
            triggers.append("up")
        policy = {
            "providers": [{"name": name}],
            "monitorNames": sorted({n for n, _ in users}),
            "triggers": triggers,
        }
        b.add("NotificationPolicy", b.name("NotificationPolicy", name), policy)
    for kind in sorted(set(alerts) - set(cfg.get("alerting") or {})):
        b.skip(f"alert type {kind}", "alerts", "no alerting provider of that type is configured")


_DAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


def _maintenance(cfg: dict[str, Any], b: Bundle) -> None:
    mw = cfg.get("maintenance")
    if not mw or mw.get("enabled") is False:
        return
    seconds = go_duration(mw.get("duration"))
    start = str(mw.get("start") or "")
    if not seconds or not re.match(r"^\d{2}:\d{2}$", start):
        b.skip("maintenance", "the whole window", "start HH:MM and duration are required")
        return
    every = [_DAYS[d.lower()] for d in mw.get("every") or [] if d.lower() in _DAYS]
    rrule = "FREQ=WEEKLY;BYDAY=" + ",".join(every) if every else "FREQ=DAILY"
    spec: dict[str, Any] = {
        "title": "Gatus maintenance",
        "start": f"2024-01-01T{start}:00",
        "duration": duration(seconds),
        "rrule": rrule,
        "monitorSelector": {},
    }
    if mw.get("timezone"):
        spec["timezone"] = mw["timezone"]
    b.add("MaintenanceWindow", b.name("MaintenanceWindow", "gatus-maintenance"), spec)


def _status_page(cfg: dict[str, Any], b: Bundle) -> None:
    monitors = b.of_kind("Monitor")
    if not monitors:
        return
    groups: dict[str, list[dict[str, str]]] = {}
    for m in monitors:
        group = (m["metadata"].get("labels") or {}).get("gatus-group", "")
        groups.setdefault(group, []).append({"name": m["metadata"]["name"]})
    ui = cfg.get("ui") or {}
    spec = {
        "slug": "gatus",
        "title": ui.get("title") or "Health Dashboard",
        "groups": [{"name": g or "Services", "monitors": ms} for g, ms in sorted(groups.items())],
    }
    if ui.get("description"):
        spec["description"] = ui["description"]
    for key in sorted(set(ui) - {"title", "description"}):
        b.skip("ui", key, "status pages have no such setting")
    b.add("StatusPage", b.name("StatusPage", "gatus"), spec)


def convert(path: Path, namespace: str = "default") -> Bundle:
    cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    b = Bundle(namespace, f"Gatus {path.name}")
    alerts = _monitors(cfg, b)
    _alerting(cfg, alerts, b)
    _maintenance(cfg, b)
    _status_page(cfg, b)
    for key in sorted(set(cfg) - {"endpoints", "external-endpoints", "alerting", "maintenance", "ui"}):
        b.skip("configuration", key, "server settings of Gatus itself (storage, web, metrics, security, ...)")
    return b
