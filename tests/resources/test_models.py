"""The typed models of the kinds: what a manifest may say, and what a user is told when it is wrong.

Errors are read through `parse_resource`, so each expectation is the exact line that
`kubekuma validate`, the `Valid` condition and the API show: `field.path: reason`.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.resources.common import LabelSelector, NameValue, SecretKeyRef
from app.resources.kinds import PROVIDER_TYPES
from app.resources.monitor import CertificateExpiry, HttpSpec, MonitorSpec, MonitorType
from app.resources.registry import KINDS, ResourceError, parse_resource

API = "kubekuma.io/v1alpha1"


def manifest(kind: str, spec: Any, name: str = "example") -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def problems(kind: str, spec: Any) -> list[str]:
    """The problem lines a user sees for this spec (empty when it is valid)."""
    try:
        parse_resource(manifest(kind, spec))
    except ResourceError as exc:
        return [str(p) for p in exc.problems]
    return []


def monitor(**spec: Any) -> MonitorSpec:
    return MonitorSpec.model_validate(spec)


# --- label selectors -------------------------------------------------------------------------


def selector(labels: dict[str, str] | None = None, *expressions: tuple[str, str, list[str]]) -> LabelSelector:
    return LabelSelector.model_validate(
        {
            "matchLabels": labels or {},
            "matchExpressions": [{"key": k, "operator": op, "values": v} for k, op, v in expressions],
        }
    )


TEAM_WEB = {"team": "web", "tier": "critical"}


@pytest.mark.parametrize(
    ("sel", "labels", "expected"),
    [
        pytest.param(selector(), {}, True, id="empty-matches-unlabelled"),
        pytest.param(selector(), TEAM_WEB, True, id="empty-matches-everything"),
        pytest.param(selector({"team": "web"}), TEAM_WEB, True, id="matchLabels-equal"),
        pytest.param(selector({"team": "db"}), TEAM_WEB, False, id="matchLabels-other-value"),
        pytest.param(selector({"owner": "ann"}), TEAM_WEB, False, id="matchLabels-missing-key"),
        pytest.param(
            selector({"team": "web", "tier": "low"}), TEAM_WEB, False, id="matchLabels-all-must-hold"
        ),
        pytest.param(selector(None, ("team", "In", ["web", "db"])), TEAM_WEB, True, id="In-listed"),
        pytest.param(selector(None, ("team", "In", ["db"])), TEAM_WEB, False, id="In-not-listed"),
        pytest.param(selector(None, ("owner", "In", ["ann"])), TEAM_WEB, False, id="In-missing-key"),
        pytest.param(selector(None, ("team", "NotIn", ["db"])), TEAM_WEB, True, id="NotIn-not-listed"),
        pytest.param(selector(None, ("team", "NotIn", ["web"])), TEAM_WEB, False, id="NotIn-listed"),
        pytest.param(selector(None, ("owner", "NotIn", ["ann"])), TEAM_WEB, True, id="NotIn-missing-key"),
        pytest.param(selector(None, ("tier", "Exists", [])), TEAM_WEB, True, id="Exists-present"),
        pytest.param(selector(None, ("owner", "Exists", [])), TEAM_WEB, False, id="Exists-absent"),
        pytest.param(selector(None, ("owner", "DoesNotExist", [])), TEAM_WEB, True, id="DoesNotExist-absent"),
        pytest.param(
            selector(None, ("tier", "DoesNotExist", [])), TEAM_WEB, False, id="DoesNotExist-present"
        ),
        pytest.param(
            selector({"team": "web"}, ("tier", "In", ["critical"]), ("owner", "DoesNotExist", [])),
            TEAM_WEB,
            True,
            id="labels-and-expressions-all-hold",
        ),
        pytest.param(
            selector({"team": "web"}, ("tier", "NotIn", ["critical"])),
            TEAM_WEB,
            False,
            id="labels-hold-expression-fails",
        ),
    ],
)
def test_label_selector_matches(sel: LabelSelector, labels: dict[str, str], expected: bool) -> None:
    assert sel.matches(labels) is expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param({"key": "team", "operator": "In"}, "operator In needs values", id="In-without-values"),
        pytest.param(
            {"key": "team", "operator": "NotIn"}, "operator NotIn needs values", id="NotIn-without-values"
        ),
        pytest.param(
            {"key": "team", "operator": "Exists", "values": ["web"]},
            "operator Exists takes no values",
            id="Exists-with-values",
        ),
        pytest.param(
            {"key": "team", "operator": "DoesNotExist", "values": ["web"]},
            "operator DoesNotExist takes no values",
            id="DoesNotExist-with-values",
        ),
        pytest.param(
            {"key": "team", "operator": "Equals", "values": ["web"]}, "Input should be 'In'", id="unknown-op"
        ),
    ],
)
def test_label_selector_rejects_malformed_expressions(expression: dict[str, Any], message: str) -> None:
    spec = {"providers": [{"name": "chat"}], "monitorSelector": {"matchExpressions": [expression]}}

    found = problems("NotificationPolicy", spec)

    assert len(found) == 1
    assert found[0].startswith("spec.monitorSelector.matchExpressions[0]")
    assert message in found[0]


# --- Secret references and name/value pairs -----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"name": "db"}, SecretKeyRef(name="db", key="value"), id="name-default-key"),
        pytest.param(
            {"name": "db", "key": "password"}, SecretKeyRef(name="db", key="password"), id="name-key"
        ),
        pytest.param({"env": "DB_PASSWORD"}, SecretKeyRef(env="DB_PASSWORD"), id="env"),
    ],
)
def test_secret_key_ref_accepts_a_secret_or_a_variable(data: dict[str, Any], expected: SecretKeyRef) -> None:
    assert SecretKeyRef.model_validate(data) == expected


@pytest.mark.parametrize(
    "data", [{}, {"key": "password"}, {"name": "", "env": ""}], ids=["empty", "key-only", "blank"]
)
def test_secret_key_ref_needs_a_source(data: dict[str, Any]) -> None:
    with pytest.raises(
        ValidationError, match="a secret reference needs name \\(a Secret\\) or env \\(a variable\\)"
    ):
        SecretKeyRef.model_validate(data)


def test_secret_key_ref_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SecretKeyRef.model_validate({"name": "db", "namespace": "other"})


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        pytest.param({"name": "X-Token", "value": "abc"}, True, id="literal"),
        pytest.param({"name": "X-Token", "value": ""}, True, id="empty-literal"),
        pytest.param(
            {"name": "X-Token", "valueFrom": {"secretKeyRef": {"name": "tok"}}}, True, id="from-secret"
        ),
        pytest.param({"name": "X-Token"}, False, id="neither"),
        pytest.param(
            {"name": "X-Token", "value": "abc", "valueFrom": {"secretKeyRef": {"name": "tok"}}},
            False,
            id="both",
        ),
    ],
)
def test_name_value_takes_exactly_one_of_value_or_value_from(data: dict[str, Any], ok: bool) -> None:
    if ok:
        assert NameValue.model_validate(data).name == "X-Token"
    else:
        with pytest.raises(ValidationError, match="give exactly one of value or valueFrom"):
            NameValue.model_validate(data)


def test_name_value_needs_a_name() -> None:
    with pytest.raises(ValidationError, match="String should have at least 1 character"):
        NameValue.model_validate({"name": "", "value": "x"})


# --- Monitor: one field per type ------------------------------------------------------------------

MINIMAL_SETTINGS: dict[str, dict[str, Any]] = {
    "http": {"url": "https://example.com/health"},
    "tcp": {"host": "db.internal", "port": 5432},
    "dns": {"name": "example.com", "recordType": "MX"},
    "ping": {"host": "10.0.0.1"},
    "websocket": {"url": "wss://example.com/socket"},
    "push": {},
    "steam": {"host": "game.example.com"},
    "kubernetes": {"kind": "Deployment", "name": "web"},
    "tls": {"host": "example.com"},
    "postgres": {"host": "db.internal"},
    "mysql": {"host": "db.internal", "port": 3307},
    "redis": {"host": "cache.internal"},
    "mqtt": {"host": "broker.internal"},
    "amqp": {"host": "rabbit.internal"},
    "nats": {"host": "nats.internal"},
    "grpc": {"host": "api.internal", "port": 50051},
    "smtp": {"host": "mail.internal", "port": 587},
    "group": {"selector": {"matchLabels": {"team": "shop"}}},
}


def test_every_monitor_type_has_a_minimal_example() -> None:
    assert set(MINIMAL_SETTINGS) == {t.value for t in MonitorType}


@pytest.mark.parametrize(
    ("type_", "settings", "target"),
    [
        pytest.param("http", MINIMAL_SETTINGS["http"], "https://example.com/health", id="http"),
        pytest.param("tcp", MINIMAL_SETTINGS["tcp"], "db.internal:5432", id="tcp"),
        pytest.param("dns", MINIMAL_SETTINGS["dns"], "example.com MX", id="dns"),
        pytest.param("ping", MINIMAL_SETTINGS["ping"], "10.0.0.1", id="ping"),
        pytest.param("websocket", MINIMAL_SETTINGS["websocket"], "wss://example.com/socket", id="websocket"),
        pytest.param("push", MINIMAL_SETTINGS["push"], "push", id="push"),
        pytest.param("steam", MINIMAL_SETTINGS["steam"], "game.example.com:27015", id="steam-default-port"),
        pytest.param("kubernetes", MINIMAL_SETTINGS["kubernetes"], "Deployment/web", id="kubernetes-by-name"),
        pytest.param(
            "kubernetes",
            {"kind": "Pod", "selector": {"app": "web", "tier": "frontend"}},
            "Pod/app=web,tier=frontend",
            id="kubernetes-by-selector",
        ),
        pytest.param("tls", MINIMAL_SETTINGS["tls"], "example.com:443", id="tls-default-port"),
        pytest.param("postgres", MINIMAL_SETTINGS["postgres"], "postgres://db.internal:5432", id="postgres"),
        pytest.param("mysql", MINIMAL_SETTINGS["mysql"], "mysql://db.internal:3307", id="mysql"),
        pytest.param("redis", MINIMAL_SETTINGS["redis"], "redis://cache.internal:6379", id="redis"),
        pytest.param("nats", MINIMAL_SETTINGS["nats"], "nats://nats.internal:4222", id="nats"),
        pytest.param("smtp", MINIMAL_SETTINGS["smtp"], "mail.internal:587", id="smtp"),
        pytest.param("group", MINIMAL_SETTINGS["group"], "group team=shop", id="group"),
    ],
)
def test_monitor_target_describes_what_is_checked(type_: str, settings: dict[str, Any], target: str) -> None:
    spec = monitor(type=type_, **{type_: settings})

    assert spec.type == type_
    assert spec.settings is getattr(spec, type_)
    assert spec.target() == target


def test_push_monitor_needs_no_settings() -> None:
    spec = monitor(type="push")

    assert spec.push is not None
    assert spec.push.gracePeriod == 0
    assert spec.target() == "push"


@pytest.mark.parametrize("type_", [t for t in MINIMAL_SETTINGS if t != "push"])
def test_monitor_requires_the_field_of_its_type(type_: str) -> None:
    assert problems("Monitor", {"type": type_}) == [f"spec: type {type_} needs the field {type_}"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"type": "http", "http": MINIMAL_SETTINGS["http"], "tcp": MINIMAL_SETTINGS["tcp"]},
            "spec: type http takes no tcp settings",
            id="http-with-tcp",
        ),
        pytest.param(
            {
                "type": "ping",
                "ping": MINIMAL_SETTINGS["ping"],
                "http": MINIMAL_SETTINGS["http"],
                "dns": MINIMAL_SETTINGS["dns"],
            },
            "spec: type ping takes no http, dns settings",
            id="ping-with-two-strays",
        ),
        pytest.param(
            {"type": "tcp", "tcp": MINIMAL_SETTINGS["tcp"], "push": {}},
            "spec: type tcp takes no push settings",
            id="tcp-with-push",
        ),
    ],
)
def test_monitor_rejects_settings_of_another_type(spec: dict[str, Any], expected: str) -> None:
    assert problems("Monitor", spec) == [expected]


def test_monitor_rejects_an_unknown_type() -> None:
    found = problems("Monitor", {"type": "gopher", "gopher": {}})

    assert found[0].startswith("spec.type: Input should be 'http', 'tcp'")


HTTP = {"type": "http", "http": MINIMAL_SETTINGS["http"]}


@pytest.mark.parametrize(
    ("field", "value", "seconds"),
    [
        pytest.param("interval", "1s", 1, id="interval-lowest"),
        pytest.param("interval", "7d", 7 * 86400, id="interval-highest"),
        pytest.param("interval", 30, 30, id="interval-number"),
        pytest.param("timeout", "250ms", 0.25, id="timeout-sub-second"),
        pytest.param("timeout", "5m", 300, id="timeout-highest"),
        pytest.param("retryInterval", "1s", 1, id="retry-lowest"),
        pytest.param("retryInterval", "1d", 86400, id="retry-highest"),
    ],
)
def test_monitor_durations_in_range(field: str, value: Any, seconds: float) -> None:
    spec = monitor(**HTTP, **{field: value})

    assert getattr(spec, field) == seconds


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        pytest.param(
            "interval", "999ms", "spec.interval: must be between 1s and 7d", id="interval-too-short"
        ),
        pytest.param("interval", "8d", "spec.interval: must be between 1s and 7d", id="interval-too-long"),
        pytest.param("interval", "0", "spec.interval: must be between 1s and 7d", id="interval-zero"),
        pytest.param("timeout", "0", "spec.timeout: must be above 0 and at most 5m", id="timeout-zero"),
        pytest.param(
            "timeout", "301s", "spec.timeout: must be above 0 and at most 5m", id="timeout-too-long"
        ),
        pytest.param(
            "retryInterval", "500ms", "spec.retryInterval: must be between 1s and 1d", id="retry-short"
        ),
        pytest.param(
            "retryInterval", "25h", "spec.retryInterval: must be between 1s and 1d", id="retry-long"
        ),
        pytest.param(
            "interval", "soon", "spec.interval: 'soon' is not a duration", id="interval-not-duration"
        ),
        pytest.param(
            "retries", -1, "spec.retries: Input should be greater than or equal to 0", id="retries-neg"
        ),
        pytest.param(
            "retries", 101, "spec.retries: Input should be less than or equal to 100", id="retries-many"
        ),
    ],
)
def test_monitor_rejects_out_of_range_timing(field: str, value: Any, expected: str) -> None:
    found = problems("Monitor", {**HTTP, field: value})

    assert len(found) == 1
    assert found[0].startswith(expected)


def test_retry_interval_defaults_to_the_interval() -> None:
    assert monitor(**HTTP, interval="2m").effective_retry_interval == 120
    assert monitor(**HTTP, interval="2m", retryInterval="10s").effective_retry_interval == 10


def test_monitor_defaults() -> None:
    spec = monitor(**HTTP)

    assert (spec.enabled, spec.interval, spec.timeout, spec.retries, spec.upsideDown) == (
        True,
        60,
        10,
        0,
        False,
    )
    assert spec.http is not None
    assert spec.http.method == "GET"
    assert spec.http.acceptedStatusCodes == ["200-299"]


# --- HTTP settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "accepted"),
    [
        pytest.param(200, True, id="single-code"),
        pytest.param(201, False, id="next-to-single-code"),
        pytest.param(301, True, id="range-start"),
        pytest.param(302, True, id="range-end"),
        pytest.param(303, False, id="past-range"),
        pytest.param(404, True, id="inside-wide-range"),
        pytest.param(500, False, id="server-error"),
        pytest.param(100, False, id="informational"),
    ],
)
def test_http_accepts_listed_codes_and_ranges(status: int, accepted: bool) -> None:
    http = HttpSpec.model_validate(
        {"url": "http://x.test", "acceptedStatusCodes": ["200", "301-302", "400-499"]}
    )

    assert http.accepts(status) is accepted


@pytest.mark.parametrize("status", [200, 204, 299])
def test_http_accepts_2xx_by_default(status: int) -> None:
    http = HttpSpec.model_validate({"url": "http://x.test"})

    assert http.accepts(status)
    assert not http.accepts(300)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        pytest.param([], "list at least one status code or range, e.g. 200-299", id="empty"),
        pytest.param(["2xx"], "'2xx' is not a status code or range like 200-299", id="wildcard"),
        pytest.param(["20"], "'20' is not a status code or range like 200-299", id="two-digits"),
        pytest.param(["200-"], "'200-' is not a status code or range like 200-299", id="open-range"),
        pytest.param(["200", "200..299"], "'200..299' is not a status code or range like 200-299", id="dots"),
    ],
)
def test_http_rejects_malformed_status_codes(codes: list[str], expected: str) -> None:
    found = problems(
        "Monitor", {"type": "http", "http": {"url": "http://x.test", "acceptedStatusCodes": codes}}
    )

    assert found == [f"spec.http.acceptedStatusCodes: {expected}"]


@pytest.mark.parametrize(
    ("type_", "url", "ok"),
    [
        pytest.param("http", "http://example.com", True, id="http"),
        pytest.param("http", "https://example.com:8443/x?y=1", True, id="https-port-query"),
        pytest.param("http", "ftp://example.com", False, id="http-ftp"),
        pytest.param("http", "example.com/health", False, id="http-no-scheme"),
        pytest.param("http", "http:///health", False, id="http-no-host"),
        pytest.param("http", "ws://example.com", False, id="http-given-ws"),
        pytest.param("websocket", "wss://example.com/ws", True, id="wss"),
        pytest.param("websocket", "https://example.com/ws", False, id="websocket-given-https"),
    ],
)
def test_urls_must_be_absolute_with_the_right_scheme(type_: str, url: str, ok: bool) -> None:
    found = problems("Monitor", {"type": type_, type_: {"url": url}})

    if ok:
        assert found == []
    else:
        schemes = "http or https" if type_ == "http" else "ws or wss"
        assert found == [f"spec.{type_}.url: must be an absolute {schemes} URL with a host"]


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        pytest.param({"json": {"a": 1}}, True, id="json"),
        pytest.param({"text": "ping"}, True, id="text"),
        pytest.param({"form": {"a": "1"}}, True, id="form"),
        pytest.param(
            {"form": {"a": "1"}, "formFrom": [{"name": "b", "valueFrom": {"secretKeyRef": {"name": "s"}}}]},
            True,
            id="form-and-formFrom",
        ),
        pytest.param({"valueFrom": {"secretKeyRef": {"name": "body"}}}, True, id="from-secret"),
        pytest.param({}, False, id="nothing"),
        pytest.param({"json": {"a": 1}, "text": "ping"}, False, id="json-and-text"),
    ],
)
def test_http_body_takes_exactly_one_kind(body: dict[str, Any], ok: bool) -> None:
    found = problems(
        "Monitor", {"type": "http", "http": {"url": "http://x.test", "method": "POST", "body": body}}
    )

    expected = (
        [] if ok else ["spec.http.body: give exactly one of json, text, form (and/or formFrom) or valueFrom"]
    )
    assert found == expected


@pytest.mark.parametrize(
    "target",
    [{"kind": "Deployment"}, {"kind": "Deployment", "name": "web", "selector": {"app": "web"}}],
    ids=["neither", "both"],
)
def test_kubernetes_target_takes_a_name_or_a_selector(target: dict[str, Any]) -> None:
    found = problems("Monitor", {"type": "kubernetes", "kubernetes": target})

    assert found == ["spec.kubernetes: give exactly one of name or selector"]


def test_certificate_warning_days_are_sorted_unique_and_positive() -> None:
    assert CertificateExpiry.model_validate({"warnDays": [7, 30, 7, 1]}).warnDays == [30, 7, 1]
    with pytest.raises(ValidationError, match="warnDays are whole days above 0"):
        CertificateExpiry.model_validate({"warnDays": [7, 0]})


# --- every kind: a good example and a bad one ----------------------------------------------------

SECRET = {"name": "credentials"}
GOOD: list[Any] = [
    pytest.param("KubeKumaSettings", {}, id="settings-empty"),
    pytest.param(
        "KubeKumaSettings",
        {"retention": {"heartbeats": "14d"}, "auth": {"anonymousRead": True}, "readOnly": True},
        id="settings",
    ),
    pytest.param("Monitor", {"type": "tcp", "tcp": {"host": "db", "port": 5432}, "retries": 2}, id="monitor"),
    pytest.param(
        "MonitorSet",
        {
            "template": {"type": "tcp", "tcp": {"host": "db", "port": 1}},
            "items": [{"name": "a"}, {"name": "b"}],
        },
        id="monitor-set",
    ),
    pytest.param(
        "NotificationProvider", {"type": "slack", "slack": {"webhookUrlSecretRef": SECRET}}, id="provider"
    ),
    pytest.param(
        "NotificationPolicy",
        {
            "providers": [{"name": "chat"}],
            "triggers": ["down", "flapping"],
            "continue": True,
            "dedupWindow": "5m",
        },
        id="policy",
    ),
    pytest.param(
        "StatusPage",
        {
            "slug": "public",
            "title": "Service status",
            "groups": [{"name": "API", "monitors": [{"name": "api"}]}],
        },
        id="status-page",
    ),
    pytest.param(
        "MaintenanceWindow",
        {
            "start": "2024-01-07T02:00:00",
            "duration": "2h",
            "timezone": "Europe/Berlin",
            "rrule": "FREQ=WEEKLY;BYDAY=SU",
            "monitorSelector": {"matchLabels": {"team": "db"}},
        },
        id="maintenance-window",
    ),
    pytest.param(
        "Silence",
        {
            "matchers": [{"name": "team", "operator": "=~", "value": "db|cache"}],
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "2024-01-01T06:00:00Z",
            "comment": "migration",
        },
        id="silence",
    ),
    pytest.param(
        "Silence",
        {
            "matchers": [{"name": "team", "value": "db"}],
            "startsAt": "2024-01-01T10:00:00+02:00",
            "endsAt": "2024-01-01T08:00:01",
        },
        id="silence-naive-end-read-as-utc",
    ),
    pytest.param(
        "LocalUser", {"username": "ann", "role": "editor", "passwordHashSecretRef": SECRET}, id="user"
    ),
    pytest.param(
        "ApiKey",
        {
            "scopes": ["monitors:read", "statuspages:write"],
            "keyHashSecretRef": SECRET,
            "expiresAt": "2030-01-01",
        },
        id="api-key",
    ),
]


def test_every_kind_has_a_good_example() -> None:
    assert {p.values[0] for p in GOOD} == set(KINDS)


@pytest.mark.parametrize(("kind", "spec"), GOOD)
def test_kind_accepts_a_good_example(kind: str, spec: dict[str, Any]) -> None:
    res = parse_resource(manifest(kind, spec))

    assert res.kind == kind
    assert isinstance(res.spec, KINDS[kind].spec_model)


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_every_provider_type_takes_its_settings_under_its_own_name(provider_type: str) -> None:
    settings = {"urlSecretRef": SECRET}
    res = parse_resource(manifest("NotificationProvider", {"type": provider_type, provider_type: settings}))

    assert res.spec.settings == settings


BAD: list[Any] = [
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "timezone": "Mars/Olympus"},
        "spec.timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Berlin",
        id="maintenance-unknown-timezone",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "timezone": "../../etc/passwd"},
        "spec.timezone: unknown time zone '../../etc/passwd'",
        id="maintenance-timezone-path",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "rrule": "FREQ=SOMETIMES"},
        "spec.rrule: not an RFC 5545 RRULE: invalid 'FREQ': SOMETIMES",
        id="maintenance-bad-freq",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "rrule": "every sunday"},
        "spec.rrule: not an RFC 5545 RRULE",
        id="maintenance-prose-rrule",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "rrule": "FREQ=SECONDLY"},
        "spec.rrule: repeats more often than once a minute",
        id="maintenance-secondly",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "rrule": "FREQ=MINUTELY;BYSECOND=0,30"},
        "spec.rrule: repeats more often than once a minute",
        id="maintenance-bysecond-list",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "1h", "rrule": "FREQ=DAILY;COUNT=20000"},
        "spec.rrule: COUNT above 10000",
        id="maintenance-count-bound",
    ),
    pytest.param(
        "MaintenanceWindow",
        {
            "start": "2024-01-01T02:00:00",
            "duration": "1h",
            "rrule": "RRULE:FREQ=DAILY\nEXDATE:20240102T020000",
        },
        "spec.rrule: one RRULE line",
        id="maintenance-ruleset",
    ),
    pytest.param(
        "MaintenanceWindow",
        {"start": "2024-01-01T02:00:00", "duration": "0s"},
        "spec.duration: must be above 0",
        id="maintenance-zero-duration",
    ),
    pytest.param(
        "MaintenanceWindow", {"duration": "1h"}, "spec.start: Field required", id="maintenance-without-start"
    ),
    pytest.param(
        "Silence",
        {
            "matchers": [{"name": "team", "value": "db"}],
            "startsAt": "2024-01-02T00:00:00Z",
            "endsAt": "2024-01-01T00:00:00Z",
        },
        "spec: endsAt must be after startsAt",
        id="silence-ends-before-start",
    ),
    pytest.param(
        "Silence",
        {
            "matchers": [{"name": "team", "value": "db"}],
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "2024-01-01T00:00:00Z",
        },
        "spec: endsAt must be after startsAt",
        id="silence-zero-length",
    ),
    pytest.param(
        "Silence",
        {
            "matchers": [{"name": "team", "value": "db"}],
            "startsAt": "2024-01-01T10:00:00+02:00",
            "endsAt": "2024-01-01T07:59:59",
        },
        "spec: endsAt must be after startsAt",
        id="silence-naive-end-before-aware-start",
    ),
    pytest.param(
        "Silence",
        {
            "matchers": [
                {"name": "team", "value": "db"},
                {"name": "tier", "operator": "!~", "value": "(crit"},
            ],
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "2024-01-02T00:00:00Z",
        },
        "spec.matchers[1]: bad regular expression (missing ): (crit); "
        "RE2 syntax, without backreferences or lookaround",
        id="silence-bad-regex",
    ),
    pytest.param(
        "Silence",
        {"matchers": [], "startsAt": "2024-01-01T00:00:00Z", "endsAt": "2024-01-02T00:00:00Z"},
        "spec.matchers: List should have at least 1 item",
        id="silence-without-matchers",
    ),
    pytest.param(
        "ApiKey",
        {"scopes": ["monitors:read", "monitors:delete"], "keyHashSecretRef": SECRET},
        "spec.scopes: scope 'monitors:delete' is not RESOURCE:read or RESOURCE:write",
        id="apikey-unknown-verb",
    ),
    pytest.param(
        "ApiKey",
        {"scopes": ["*"], "keyHashSecretRef": SECRET},
        "spec.scopes: scope '*' is not RESOURCE:read or RESOURCE:write",
        id="apikey-wildcard",
    ),
    pytest.param(
        "ApiKey",
        {"role": "root", "keyHashSecretRef": SECRET},
        "spec.role: Input should be 'admin', 'editor' or 'viewer'",
        id="apikey-unknown-role",
    ),
    pytest.param("ApiKey", {"scopes": []}, "spec.keyHashSecretRef: Field required", id="apikey-without-hash"),
    pytest.param(
        "NotificationProvider",
        {"type": "slack"},
        "spec: type slack needs the field slack with its settings",
        id="provider-without-settings",
    ),
    pytest.param(
        "NotificationProvider",
        {"type": "slack", "slack": "https://hooks.slack.com/x"},
        "spec: type slack needs the field slack with its settings",
        id="provider-settings-not-a-mapping",
    ),
    pytest.param(
        "NotificationProvider",
        {"type": "slack", "slack": {}, "discord": {}},
        "spec: unknown field(s) discord for a slack provider",
        id="provider-stray-settings",
    ),
    pytest.param(
        "NotificationProvider",
        {"type": "fax", "fax": {}},
        "spec.type: Input should be 'slack'",
        id="provider-fax",
    ),
    pytest.param(
        "NotificationPolicy",
        {"providers": []},
        "spec.providers: List should have at least 1 item",
        id="policy-empty",
    ),
    pytest.param(
        "NotificationPolicy",
        {"providers": [{"name": "chat"}], "triggers": ["sideways"]},
        "spec.triggers[0]: Input should be 'down', 'up', 'flapping' or 'certificateExpiring'",
        id="policy-unknown-trigger",
    ),
    pytest.param(
        "NotificationPolicy",
        {"providers": [{"name": "chat"}], "continue": "perhaps"},
        "spec.continue: Input should be a valid boolean",
        id="policy-continue-alias-path",
    ),
    pytest.param(
        "StatusPage",
        {"slug": "Public Page", "title": "Status"},
        "spec.slug: String should match pattern",
        id="status-page-slug",
    ),
    pytest.param(
        "StatusPage", {"slug": "public"}, "spec.title: Field required", id="status-page-without-title"
    ),
    pytest.param(
        "LocalUser",
        {"username": "", "passwordHashSecretRef": SECRET},
        "spec.username: String should have at least 1 character",
        id="user-empty-name",
    ),
    pytest.param(
        "LocalUser",
        {"username": "ann", "passwordHashSecretRef": {"key": "hash"}},
        "spec.passwordHashSecretRef: a secret reference needs name (a Secret) or env (a variable)",
        id="user-secret-ref-without-source",
    ),
    pytest.param(
        "KubeKumaSettings",
        {"retention": {"heartbeats": "fortnight"}},
        "spec.retention.heartbeats: 'fortnight' is not a duration",
        id="settings-bad-duration",
    ),
    pytest.param(
        "KubeKumaSettings",
        {"readonly": True},
        "spec.readonly: Extra inputs are not permitted",
        id="settings-typo",
    ),
    pytest.param(
        "MonitorSet",
        {"template": {"type": "push"}, "items": [{"name": "a"}, {"name": "b"}, {"name": "a"}]},
        "spec.items: item names must be unique; repeated: a",
        id="set-duplicate-items",
    ),
    pytest.param(
        "MonitorSet",
        {"template": {"type": "push"}, "items": []},
        "spec.items: List should have at least 1 item",
        id="set-without-items",
    ),
    pytest.param(
        "MonitorSet",
        {"template": {"type": "push"}, "items": [{"name": "Web_1"}]},
        "spec.items[0].name: String should match pattern",
        id="set-item-bad-name",
    ),
]


@pytest.mark.parametrize(("kind", "spec", "expected"), BAD)
def test_kind_rejects_a_bad_example_with_a_clear_message(
    kind: str, spec: dict[str, Any], expected: str
) -> None:
    found = problems(kind, spec)

    assert len(found) == 1, found
    assert found[0].startswith(expected)


def test_regex_operators_only_check_regex_values() -> None:
    spec = {
        "matchers": [{"name": "team", "operator": "=", "value": "(literal"}],
        "startsAt": "2024-01-01T00:00:00Z",
        "endsAt": "2024-01-02T00:00:00Z",
    }

    assert problems("Silence", spec) == []
