"""Templates as tables: variables, safe rendering, defaults per style, and what never leaks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.alerting.events import AlertEvent, EventKind, transition_event
from app.alerting.templates import (
    human_duration,
    render,
    render_message,
    safe_url,
    unknown_variables,
    variables,
)

NOW = datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC)
DOWN = AlertEvent(EventKind.DOWN, "i:1:down", "m-1", NOW, "DOWN", "UP", "HTTP 500 from /health", 41.7)
UP = AlertEvent(EventKind.UP, "i:1:up", "m-1", NOW, "UP", "DOWN", "", 12.0, incident_duration_s=754)
VALUES = variables(DOWN, "checkout", "shop", "https://user:pw@shop.example/health")

RENDER = [
    pytest.param("{monitorName} is {state}", "checkout is DOWN", id="names"),
    pytest.param(
        "{namespace}/{monitorName} was {previousState}", "shop/checkout was UP", id="previous-state"
    ),
    pytest.param("{reason} after {latency} ms", "HTTP 500 from /health after 42 ms", id="reason-latency"),
    pytest.param("{url}", "https://shop.example/health", id="url-without-credentials"),
    pytest.param("at {time}", "at 2024-05-01T12:00:05Z", id="time-rfc3339"),
    pytest.param("{nope} stays", "{nope} stays", id="unknown-variable-stays-visible"),
    pytest.param("{monitorName.__class__}", "{monitorName.__class__}", id="no-attribute-access"),
    pytest.param("{monitorName[0]}", "{monitorName[0]}", id="no-indexing"),
    pytest.param("{latency:>10}", "{latency:>10}", id="no-format-spec"),
    pytest.param("{{literal}} braces", "{literal} braces", id="escaped-braces"),
    pytest.param("broken {", "broken {", id="unbalanced-brace-shown-as-written"),
    pytest.param("{incidentDuration}", "-", id="missing-value-is-a-dash"),
]


@pytest.mark.parametrize(("template", "text"), RENDER)
def test_render(template: str, text: str) -> None:
    assert render(template, VALUES) == text


DEFAULTS = [
    pytest.param(
        DOWN, "chat", "🔴 checkout is DOWN", "shop/checkout is DOWN: HTTP 500 from /health", id="chat-down"
    ),
    pytest.param(
        UP, "chat", "✅ checkout is UP", "shop/checkout is UP again after 12m 34s (12 ms).", id="chat-up"
    ),
    pytest.param(DOWN, "mail", "[KubeKuma] DOWN: shop/checkout", "checkout is DOWN.", id="mail-down"),
    pytest.param(DOWN, "push", "checkout is DOWN", "HTTP 500 from /health", id="push-down"),
    pytest.param(DOWN, "incident", "shop/checkout is DOWN: HTTP 500 from /health", "", id="incident-down"),
]


@pytest.mark.parametrize(("event", "style", "title", "body_starts"), DEFAULTS)
def test_default_templates(event: AlertEvent, style: str, title: str, body_starts: str) -> None:
    t, b = render_message(event.kind, variables(event, "checkout", "shop", ""), style)
    assert t == title
    assert b.startswith(body_starts)


def test_policy_template_overrides_title_and_keeps_the_default_body() -> None:
    t, b = render_message(EventKind.DOWN, VALUES, "chat", title="[{namespace}] {monitorName} {state}")
    assert t == "[shop] checkout DOWN"
    assert b.startswith("shop/checkout is DOWN")


def test_every_default_template_uses_only_known_variables() -> None:
    from app.alerting.templates import DEFAULTS as ALL

    for style, table in ALL.items():
        for kind, (title, body) in table.items():
            assert unknown_variables(title) == [] and unknown_variables(body) == [], (style, kind)
    assert unknown_variables("{monitorName} {bogus}") == ["bogus"]


NEWS = [
    pytest.param("down", 3, EventKind.DOWN, "i:3:down", id="incident-opened"),
    pytest.param("up", 3, EventKind.UP, "i:3:up", id="incident-closed"),
    pytest.param(None, None, None, None, id="no-incident-change-is-quiet"),
    pytest.param(None, 3, None, None, id="still-the-same-incident-is-quiet"),
]


@pytest.mark.parametrize(("event", "incident", "kind", "key"), NEWS)
def test_the_news_is_what_the_check_did_to_the_incident(
    event: str | None, incident: int | None, kind: EventKind | None, key: str | None
) -> None:
    e = transition_event("m-1", event, incident, "UP", "DOWN", NOW, "500", 10.0)
    assert (e.kind if e else None) is kind
    assert (e.key if e else None) == key
    if e is not None:
        assert e.incident_id == incident and e.trigger == kind


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "0s"),
        (59.6, "1m"),
        (754, "12m 34s"),
        (3 * 3600 + 5, "3h 5s"),
        (2 * 86400 + 3700, "2d 1h"),
    ],
    ids=["none", "zero", "rounds", "minutes", "hours", "days-keeps-two-units"],
)
def test_human_duration(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://a:b@h.example:8443/x?q=1", "https://h.example:8443/x?q=1"),
        ("tcp-host:5432", "tcp-host:5432"),
        ("https://h.example/", "https://h.example/"),
    ],
    ids=["strips-user-and-password", "not-a-url", "plain-url"],
)
def test_safe_url(url: str, safe: str) -> None:
    assert safe_url(url) == safe
