"""Uptime Kuma: its SQLite database (`kuma.db`, as 2.x and 1.23 keep it) or a 1.x JSON backup.

Both are read into one shape, the database's own: rows of `monitor`, `notification`,
`status_page` and `maintenance` with snake_case columns (the backup's camelCase keys are
converted), then mapped type by type. Every column that holds a setting and is not carried
over is reported, with the reason.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from app.importers.bundle import Bundle, duration, k8s_name, label_value
from app.importers.kuma_notifications import COMMON_KEYS, MAPPERS
from app.importers.kuma_read import KumaData, read

# Columns that are bookkeeping, state or defaults with nothing to carry: never reported.
_QUIET = {
    "id",
    "name",
    "user_id",
    "created_date",
    "weight",
    "type",
    "active",
    "dns_last_result",
    "parent",
    "tags",
    "notifications",
    "description",
    "path_name",
    "pathName",
    "children_ids",
    "childrenIDs",
    "maintenance",
    "force_inactive",
    "forceInactive",
    "include_sensitive_data",
    "screenshot",
    "last_start_date",
    "cache_bust",
    "conditions",
    "remote_browser_toggle",
    "kafka_producer_ssl",
    "kafka_producer_allow_auto_topic_creation",
    "gamedig_given_port_only",
    "http_body_encoding",
    "accepted_statuscodes",
    "accepted_statuscodes_json",
    "interval",
    "retry_interval",
    "maxretries",
    "upside_down",
    "timeout",
    "expiry_notification",
    "packet_size",
    "maxredirects",
    "method",
    "ignore_tls",
    "invert_keyword",
    "dns_resolve_type",
    "json_path_operator",
    "ip_family",
    "mqtt_check_type",
    "snmp_version",
    "ping_count",
    "ping_numeric",
    "ping_per_request_timeout",
    "resend_interval",
    "tls_ca",
    "tls_cert",
    "tls_key",
    "kafka_producer_sasl_options",
    "auth_method",
    "oauth_auth_method",
    "game",
    "docker_container",
    "docker_host",
    "proxy_id",
    "rabbitmq_nodes",
}
_DB_SCHEMES = {
    "postgres": ("postgres", "postgresql"),
    "mysql": ("mysql", "mariadb"),
    "redis": ("redis", "rediss"),
}
_TYPES = {
    "http": "http",
    "keyword": "http",
    "json-query": "http",
    "port": "tcp",
    "ping": "ping",
    "dns": "dns",
    "push": "push",
    "steam": "steam",
    "group": "group",
    "postgres": "postgres",
    "mysql": "mysql",
    "redis": "redis",
    "mqtt": "mqtt",
    "grpc-keyword": "grpc",
    "smtp": "smtp",
    "websocket-upgrade": "websocket",
}


# ---------------------------------------------------------------- monitors


def _truthy(v: Any) -> bool:
    return v in (True, 1, "1", "true")


def _headers(raw: Any, where: str, b: Bundle) -> list[dict[str, str]]:
    if not raw:
        return []
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
        return [{"name": str(k), "value": str(v)} for k, v in dict(parsed).items()]
    except (ValueError, TypeError):
        b.skip(where, "headers", "not a JSON object")
        return []


def _http(m: dict[str, Any], where: str, owner: str, b: Bundle) -> dict[str, Any]:
    s: dict[str, Any] = {"url": m.get("url")}
    if (m.get("method") or "GET").upper() != "GET":
        s["method"] = m["method"].upper()
    if headers := _headers(m.get("headers"), where, b):
        s["headers"] = headers
    if body := m.get("body"):
        if (m.get("http_body_encoding") or "json") == "json":
            try:
                s["body"] = {"json": json.loads(body)}
            except ValueError:
                s["body"] = {"text": body}
        else:
            s["body"] = {"text": body}
    codes = [str(c) for c in m.get("accepted_statuscodes") or []]
    if codes and codes != ["200-299"]:
        s["acceptedStatusCodes"] = codes
    redirects = m.get("maxredirects")
    if redirects == 0:
        s["followRedirects"] = False
    elif redirects not in (None, 10):
        s["maxRedirects"] = min(int(redirects), 50)
    if _truthy(m.get("ignore_tls")):
        s["tls"] = {"verify": False}
    if m.get("basic_auth_user"):
        if m.get("auth_method") not in (None, "", "basic"):
            b.skip(where, f"authMethod {m['auth_method']}", "only basic auth is mapped")
        s["basicAuth"] = {
            "username": m["basic_auth_user"],
            "passwordSecretRef": b.secret(owner, "basic-auth-password", m.get("basic_auth_pass") or ""),
        }
    if _truthy(m.get("expiry_notification")) and str(m.get("url", "")).startswith("https"):
        s["certificateExpiry"] = {}
    if m.get("type") == "keyword" and m.get("keyword"):
        s["keyword"] = {
            "value": m["keyword"],
            **({"invert": True} if _truthy(m.get("invert_keyword")) else {}),
        }
    if m.get("type") == "json-query" and m.get("json_path"):
        op = m.get("json_path_operator") or "=="
        path = m["json_path"] if m["json_path"].startswith("$") else "$." + m["json_path"]
        s["jsonQuery"] = {
            "path": path,
            "operator": op if op in ("==", "!=", "<", "<=", ">", ">=", "contains") else "==",
            "expected": m.get("expected_value"),
        }
    if m.get("proxy_id"):
        b.skip(where, "proxy", "set http.proxy to the proxy's URL")
    return s


def _database(kind: str, m: dict[str, Any], where: str, owner: str, b: Bundle) -> dict[str, Any] | None:
    dsn = m.get("database_connection_string") or ""
    parts = urlsplit(dsn)
    if parts.scheme not in _DB_SCHEMES[kind] or not parts.hostname:
        b.skip(where, "databaseConnectionString", f"not a {kind} URL; the monitor was not imported")
        return None
    s: dict[str, Any] = {"host": parts.hostname}
    if parts.port:
        s["port"] = parts.port
    if parts.username:
        s["username"] = unquote(parts.username)
    if parts.password:
        s["passwordSecretRef"] = b.secret(owner, "password", unquote(parts.password))
    path = parts.path.strip("/")
    if kind == "redis":
        if path.isdigit():
            s["db"] = int(path)
        if parts.scheme == "rediss":
            s["tls"] = True
        return s
    if path:
        s["database"] = path
    if m.get("database_query"):
        s["query"] = m["database_query"]
    if "ssl" in parts.query or "sslmode=require" in parts.query:
        s["tls"] = True
    return s


def _settings(t: str, m: dict[str, Any], where: str, owner: str, b: Bundle) -> dict[str, Any] | None:
    host, port = m.get("hostname"), m.get("port")
    if t == "http":
        return _http(m, where, owner, b)
    if t == "tcp":
        return {"host": host, "port": port}
    if t == "ping":
        return {
            "host": host,
            **({"packetSize": m["packet_size"]} if m.get("packet_size") not in (None, 56) else {}),
        }
    if t == "dns":
        s = {"name": host, "recordType": m.get("dns_resolve_type") or "A"}
        if m.get("dns_resolve_server"):
            s["server"] = m["dns_resolve_server"]
        if port not in (None, 53):
            s["port"] = port
        return s
    if t == "push":
        return (
            {"tokenSecretRef": b.secret(owner, "push-token", m["push_token"])} if m.get("push_token") else {}
        )
    if t == "steam":
        return {"host": host, **({"port": port} if port else {})}
    if t in _DB_SCHEMES:
        return _database(t, m, where, owner, b)
    if t == "mqtt":
        s = {"host": host, "port": port or 1883, "topic": m.get("mqtt_topic") or "#", "mode": "retained"}
        if m.get("mqtt_username"):
            s["username"] = m["mqtt_username"]
        if m.get("mqtt_password"):
            s["passwordSecretRef"] = b.secret(owner, "password", m["mqtt_password"])
        if m.get("mqtt_success_message"):
            s["result"] = {"operator": "contains", "value": m["mqtt_success_message"]}
        b.skip(
            where, "mqtt", "Uptime Kuma waits for any message on the topic; KubeKuma reads its retained one"
        )
        return s
    if t == "grpc":
        url = m.get("grpc_url") or ""
        target = urlsplit(url if "//" in url else "//" + url)
        if not target.hostname or not target.port:
            b.skip(where, "grpcUrl", "not host:port; the monitor was not imported")
            return None
        b.skip(
            where, "grpcMethod/grpcBody/keyword", "KubeKuma asks the standard grpc.health.v1 service instead"
        )
        return {
            "host": target.hostname,
            "port": target.port,
            "tls": _truthy(m.get("grpc_enable_tls")),
            **({"service": m["grpc_service_name"]} if m.get("grpc_service_name") else {}),
        }
    if t == "smtp":
        security = {"secure": "tls", "starttls": "starttls"}.get(m.get("smtp_security") or "", "none")
        return {"host": host, "port": port or 25, "security": security}
    if t == "websocket":
        return {"url": m.get("url")}
    return None


def _monitors(data: KumaData, b: Bundle) -> dict[int, str]:
    """Monitor manifests; the names of those written, by Uptime Kuma id.

    A monitor not carried over is left out, so no status page or window names it (a
    reference to nothing, which `kubekuma validate` and the controller report).
    """
    names = {
        m["id"]: b.name("Monitor", m.get("name") or f"monitor-{m['id']}", "monitor") for m in data.monitors
    }
    written: dict[int, str] = {}
    children: dict[int, list[int]] = {}
    for m in data.monitors:
        if m.get("parent"):
            children.setdefault(m["parent"], []).append(m["id"])
    for m in data.monitors:
        name, kind = names[m["id"]], m.get("type") or "http"
        where = f"monitor {m.get('name')!r} ({kind})"
        t = _TYPES.get(kind)
        if t is None:
            b.skip(where, "the whole monitor", f"KubeKuma has no {kind} type")
            continue
        labels = {}
        for tag, value in m.get("tags") or []:
            key = k8s_name(tag, "tag")
            labels[key] = label_value(value) or "true"
        if m.get("parent") in names:
            labels["kuma-group"] = names[m["parent"]]
        if t == "group":
            settings: dict[str, Any] | None = {"selector": {"matchLabels": {"kuma-group": name}}}
            if m["id"] not in children:
                b.skip(where, "the whole monitor", "a group without members")
                continue
        else:
            settings = _settings(t, m, where, f"kuma-{name}", b)
        if settings is None:
            continue
        spec: dict[str, Any] = {"type": t, t: settings}
        if not _truthy(m.get("active", True)):
            spec["enabled"] = False
        spec["interval"] = duration(max(1, int(m.get("interval") or 60)))
        if (m.get("retry_interval") or 0) and m["retry_interval"] != m.get("interval"):
            spec["retryInterval"] = duration(m["retry_interval"])
        if m.get("maxretries"):
            spec["retries"] = min(100, int(m["maxretries"]))
        if m.get("timeout"):
            spec["timeout"] = f"{min(300.0, float(m['timeout'])):g}s"
        if _truthy(m.get("upside_down")):
            spec["upsideDown"] = True
        spec["description"] = m.get("description") or m.get("name") or ""
        if m.get("resend_interval"):
            b.skip(where, "resendInterval", "set repeatInterval on the NotificationPolicy")
        for col, value in sorted(m.items()):
            if col not in _QUIET | _USED and value not in (None, "", 0, False, "[]", "{}"):
                b.skip(where, col, "no counterpart")
        b.add(
            "Monitor",
            name,
            spec,
            labels or None,
            {"kubekuma.io/imported-from": f"uptime-kuma monitor {m['id']}"},
        )
        written[m["id"]] = name
    return written


_USED = {
    "url",
    "headers",
    "body",
    "basic_auth_user",
    "basic_auth_pass",
    "keyword",
    "json_path",
    "expected_value",
    "hostname",
    "port",
    "push_token",
    "database_connection_string",
    "database_query",
    "mqtt_topic",
    "mqtt_username",
    "mqtt_password",
    "mqtt_success_message",
    "grpc_url",
    "grpc_enable_tls",
    "grpc_service_name",
    "grpc_method",
    "grpc_body",
    "grpc_protobuf",
    "dns_resolve_server",
    "smtp_security",
}


# ---------------------------------------------------------------- notifications, pages, maintenance


def _notifications(data: KumaData, monitors: dict[int, str], b: Bundle) -> None:
    by_notification: dict[int, list[str]] = {}
    for m in data.monitors:
        for nid in m.get("notifications") or []:
            if m["id"] in monitors and any(
                d["metadata"]["name"] == monitors[m["id"]] for d in b.of_kind("Monitor")
            ):
                by_notification.setdefault(nid, []).append(monitors[m["id"]])
    for n in data.notifications:
        config = n.get("config") or {}
        kind = config.get("type")
        where = f"notification {n.get('name')!r} ({kind})"
        mapper = MAPPERS.get(str(kind))
        if mapper is None:
            b.skip(where, "the whole notification", f"KubeKuma has no {kind} provider")
            continue
        name = b.name("NotificationProvider", n.get("name") or f"notification-{n['id']}", "provider")
        owner = f"kuma-{name}"

        def keep(key: str, value: Any, owner: str = owner) -> dict[str, str]:
            return b.secret(owner, key, str(value or ""))

        provider_type, settings, used = mapper(config, keep)
        for key, value in sorted(config.items()):
            if key not in used and key not in COMMON_KEYS and value not in (None, "", False):
                b.skip(where, key, "no counterpart")
        spec: dict[str, Any] = {"type": provider_type, provider_type: settings}
        if not _truthy(n.get("active", True)):
            spec["enabled"] = False
        b.add("NotificationProvider", name, spec)
        targets = sorted(set(by_notification.get(n["id"], [])))
        policy: dict[str, Any] = {"providers": [{"name": name}]}
        if _truthy(n.get("is_default")):
            b.skip(where, "isDefault", "the policy below routes every monitor of the namespace to it")
        elif targets:
            policy["monitorNames"] = targets
        else:
            continue  # attached to no monitor: the provider alone, for later use
        b.add("NotificationPolicy", b.name("NotificationPolicy", name), policy)


def _status_pages(data: KumaData, monitors: dict[int, str], b: Bundle) -> None:
    for page in data.status_pages:
        where = f"status page {page.get('slug')!r}"
        groups = [
            {
                "name": g["name"] or "Services",
                "monitors": [{"name": monitors[i]} for i in g["monitors"] if i in monitors],
            }
            for g in page.get("groups") or []
        ]
        spec: dict[str, Any] = {"slug": k8s_name(page["slug"]), "title": page.get("title") or page["slug"]}
        if page.get("description"):
            spec["description"] = page["description"]
        spec["groups"] = [g for g in groups if g["monitors"]]
        if page.get("domains"):
            spec["customDomains"] = page["domains"]
        for col in ("footer_text", "custom_css", "password", "google_analytics_tag_id", "icon", "theme"):
            if page.get(col) and not (col == "icon" and page[col] == "/icon.svg"):
                b.skip(where, col, "status pages have no such setting")
        b.add("StatusPage", b.name("StatusPage", page["slug"]), spec)


_WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]


def _maintenance(data: KumaData, monitors: dict[int, str], b: Bundle) -> None:
    for mw in data.maintenances:
        where = f"maintenance {mw.get('title')!r} ({mw.get('strategy')})"
        strategy = mw.get("strategy") or "single"
        spec: dict[str, Any] = {"title": mw.get("title") or "", "description": mw.get("description") or ""}
        spec["monitors"] = [{"name": monitors[i]} for i in mw.get("monitors") or [] if i in monitors]
        if mw.get("timezone") and mw["timezone"] not in ("SAME_AS_SERVER", "UTC"):
            spec["timezone"] = mw["timezone"]
        try:
            if strategy == "single":
                start = datetime.fromisoformat(str(mw["start_date"]))
                end = datetime.fromisoformat(str(mw["end_date"]))
                spec["start"], spec["duration"] = start.isoformat(), duration((end - start).total_seconds())
            elif strategy.startswith("recurring-"):
                start_day = str(mw.get("start_date") or "2024-01-01")[:10]
                t0, t1 = (str(mw.get(k) or "00:00")[:5] for k in ("start_time", "end_time"))
                minutes = (int(t1[:2]) * 60 + int(t1[3:])) - (int(t0[:2]) * 60 + int(t0[3:]))
                spec["start"] = f"{start_day}T{t0}:00"
                spec["duration"] = duration((minutes if minutes > 0 else minutes + 1440) * 60)
                spec["rrule"] = _rrule(strategy, mw)
            else:
                b.skip(where, "the whole window", f"the {strategy} strategy has no KubeKuma counterpart")
                continue
        except (KeyError, ValueError, TypeError) as exc:
            b.skip(where, "the whole window", f"unreadable dates: {exc}")
            continue
        if not spec["monitors"]:
            b.skip(where, "the whole window", "it covers no imported monitor")
            continue
        b.add("MaintenanceWindow", b.name("MaintenanceWindow", mw.get("title") or "maintenance"), spec)


def _rrule(strategy: str, mw: dict[str, Any]) -> str:
    if strategy == "recurring-interval":
        return f"FREQ=DAILY;INTERVAL={int(mw.get('interval_day') or 1)}"
    if strategy == "recurring-weekday":
        days = json.loads(mw.get("weekdays") or "[]")
        return "FREQ=WEEKLY;BYDAY=" + ",".join(_WEEKDAYS[int(d) % 7] for d in days)
    days = [d for d in json.loads(mw.get("days_of_month") or "[]") if str(d).lstrip("-").isdigit()]
    return "FREQ=MONTHLY;BYMONTHDAY=" + ",".join(str(d) for d in days)


def convert(path: Path, namespace: str = "default") -> Bundle:
    data = read(path)
    b = Bundle(namespace, f"Uptime Kuma {path.name}")
    names = _monitors(data, b)
    _notifications(data, names, b)
    _status_pages(data, names, b)
    _maintenance(data, names, b)
    return b
