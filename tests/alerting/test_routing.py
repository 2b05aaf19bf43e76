"""Routing as tables: which providers an event reaches, in which order, through which policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from app.alerting.config import build_config
from app.alerting.routing import PolicyView, matching_policies, route, sort_policies
from app.resources.kinds import NotificationPolicySpec


@dataclass
class Mon:
    name: str = "checkout"
    namespace: str = "shop"
    labels: dict[str, str] = field(default_factory=lambda: {"team": "payments", "tier": "critical"})
    uid: str = "m-1"


@dataclass
class Rec:
    kind: str
    namespace: str
    name: str
    spec: dict[str, Any] | None
    uid: str = ""
    generation: int = 1
    status: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.uid = self.uid or f"{self.kind}/{self.namespace}/{self.name}"


def policy(name: str, ns: str = "shop", **spec: Any) -> PolicyView:
    spec.setdefault("providers", [{"name": "chat"}])
    return PolicyView(f"p/{ns}/{name}", ns, name, NotificationPolicySpec.model_validate(spec))


def names(policies: list[PolicyView]) -> list[str]:
    return [p.name for p in policies]


SELECTS = [
    pytest.param({}, Mon(), True, id="empty-policy-selects-its-own-namespace"),
    pytest.param({}, Mon(namespace="other"), False, id="other-namespace-not-selected-by-default"),
    pytest.param({"namespaces": ["other", "shop"]}, Mon(namespace="other"), True, id="listed-namespace"),
    pytest.param({"namespaces": ["*"]}, Mon(namespace="anything"), True, id="star-means-every-namespace"),
    pytest.param({"monitorNames": ["checkout"]}, Mon(), True, id="listed-name"),
    pytest.param({"monitorNames": ["cart"]}, Mon(), False, id="unlisted-name"),
    pytest.param({"monitorSelector": {"matchLabels": {"team": "payments"}}}, Mon(), True, id="match-labels"),
    pytest.param(
        {"monitorSelector": {"matchLabels": {"team": "search"}}}, Mon(), False, id="match-labels-differ"
    ),
    pytest.param(
        {
            "monitorSelector": {
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["critical", "high"]}]
            }
        },
        Mon(),
        True,
        id="expression-in",
    ),
    pytest.param(
        {
            "monitorSelector": {
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["critical"]}]
            }
        },
        Mon(),
        False,
        id="expression-notin",
    ),
    pytest.param(
        {"monitorSelector": {"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]}},
        Mon(),
        True,
        id="expression-does-not-exist",
    ),
    pytest.param(
        {"monitorSelector": {"matchExpressions": [{"key": "legacy", "operator": "Exists"}]}},
        Mon(),
        False,
        id="expression-exists",
    ),
    pytest.param(
        {
            "namespaces": ["shop"],
            "monitorNames": ["checkout"],
            "monitorSelector": {"matchLabels": {"team": "search"}},
        },
        Mon(),
        False,
        id="all-conditions-must-agree",
    ),
]


@pytest.mark.parametrize(("spec", "monitor", "selected"), SELECTS)
def test_policy_selects(spec: dict[str, Any], monitor: Mon, selected: bool) -> None:
    assert policy("p", **spec).selects(monitor) is selected


P_ALL = policy("all", priority=100)
P_CRIT = policy("critical", priority=10, monitorSelector={"matchLabels": {"tier": "critical"}})
P_CRIT_CONT = policy(
    "critical-cont", priority=10, monitorSelector={"matchLabels": {"tier": "critical"}}, **{"continue": True}
)
P_DOWN_ONLY = policy("pager", priority=1, triggers=["down"])
P_CERT = policy("certs", priority=50, triggers=["certificateExpiring"])
P_OTHER = policy("other-team", priority=5, monitorSelector={"matchLabels": {"team": "search"}})

ORDER = [
    pytest.param("down", [P_ALL, P_CRIT], ["critical"], id="first-match-by-priority-stops"),
    pytest.param("down", [P_ALL, P_CRIT_CONT], ["critical-cont", "all"], id="continue-goes-on"),
    pytest.param("down", [P_OTHER, P_ALL], ["all"], id="non-matching-policy-skipped"),
    pytest.param("up", [P_DOWN_ONLY, P_ALL], ["all"], id="unsubscribed-trigger-does-not-stop-the-search"),
    pytest.param("down", [P_DOWN_ONLY, P_ALL], ["pager"], id="subscribed-trigger-stops"),
    pytest.param(
        "certificateExpiring", [P_ALL, P_CERT, P_CRIT], ["certs"], id="certificate-only-to-subscribers"
    ),
    pytest.param("flapping", [P_ALL, P_CRIT], [], id="nobody-subscribes-to-flapping"),
    pytest.param("down", [policy("b", priority=10), policy("a", priority=10)], ["a"], id="ties-by-name"),
]


@pytest.mark.parametrize(("trigger", "policies", "expected"), ORDER)
def test_matching_policies(trigger: str, policies: list[PolicyView], expected: list[str]) -> None:
    assert names(matching_policies(trigger, Mon(), sort_policies(policies))) == expected


def test_route_resolves_providers_once_each_through_the_first_policy() -> None:
    records = [
        Rec(
            "NotificationPolicy",
            "shop",
            "critical",
            {"priority": 1, "continue": True, "providers": [{"name": "pager"}, {"name": "chat"}]},
        ),
        Rec(
            "NotificationPolicy",
            "shop",
            "all",
            {
                "priority": 2,
                "providers": [{"name": "chat"}, {"name": "mail", "namespace": "ops"}, {"name": "gone"}],
            },
        ),
        Rec("NotificationProvider", "shop", "pager", {"type": "pagerduty", "pagerduty": {}}),
        Rec("NotificationProvider", "shop", "chat", {"type": "slack", "slack": {}}),
        Rec("NotificationProvider", "ops", "mail", {"type": "smtp", "smtp": {}}),
        Rec("NotificationPolicy", "shop", "broken", None),
    ]
    cfg = build_config(records)
    r = route("down", Mon(), cfg.policies, cfg.providers)
    assert [(x.policy.name, x.provider.key) for x in r.routes] == [
        ("critical", "shop/pager"),
        ("critical", "shop/chat"),
        ("all", "ops/mail"),
    ]
    assert [str(m) for m in r.missing] == ["shop/all -> shop/gone"]


BROKEN = [
    Rec("NotificationPolicy", "shop", "broken", {"priority": 1, "providers": [{"name": "gone"}]}),
    Rec("NotificationPolicy", "shop", "all", {"priority": 2, "providers": [{"name": "chat"}]}),
    Rec("NotificationProvider", "shop", "chat", {"type": "slack", "slack": {}}),
]


def test_a_policy_whose_providers_are_all_missing_does_not_end_the_search() -> None:
    # Before: "broken" won on priority, ended the search and nothing was routed anywhere.
    cfg = build_config(BROKEN)
    r = route("down", Mon(), cfg.policies, cfg.providers)
    assert [(x.policy.name, x.provider.key) for x in r.routes] == [("all", "shop/chat")]
    assert [(m.policy.name, m.key, m.reason) for m in r.missing] == [
        ("broken", "shop/gone", "provider shop/gone does not exist")
    ]


def test_a_policy_with_one_provider_left_still_ends_the_search() -> None:
    half = [{"name": "gone"}, {"name": "chat"}]
    cfg = build_config([
        Rec("NotificationPolicy", "shop", "half", {"priority": 1, "providers": half}),
        Rec("NotificationPolicy", "shop", "all", {"priority": 2, "providers": [{"name": "mail"}]}),
        Rec("NotificationProvider", "shop", "chat", {"type": "slack", "slack": {}}),
        Rec("NotificationProvider", "shop", "mail", {"type": "smtp", "smtp": {}}),
    ])  # fmt: skip
    r = route("down", Mon(), cfg.policies, cfg.providers)
    assert [(x.policy.name, x.provider.key) for x in r.routes] == [("half", "shop/chat")]
    assert [str(m) for m in r.missing] == ["shop/half -> shop/gone"]


def test_a_broken_route_is_planned_as_a_failed_delivery_with_its_reason() -> None:
    from datetime import UTC, datetime

    from app.alerting.events import transition_event
    from app.alerting.plan import FAILED, PENDING, plan

    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    event = transition_event("m-1", "down", 7, "UP", "DOWN", now, "HTTP 500")
    assert event is not None
    planned = plan(event, Mon(), "https://shop.example/", build_config(BROKEN), now)
    assert [(p.policy.name, p.provider.key, p.status, p.reason) for p in planned] == [
        ("all", "shop/chat", PENDING, ""),
        ("broken", "shop/gone", FAILED, "provider shop/gone does not exist"),
    ]
    failed = planned[1]
    assert failed.provider.uid == "missing:NotificationProvider/shop/gone" and not failed.provider.enabled
    assert "checkout" in failed.title  # rendered like any message, so the record shows what was lost


def test_a_thousand_policies_route_in_milliseconds() -> None:
    import time

    policies = sort_policies(
        policy(f"p{i}", priority=i, monitorSelector={"matchLabels": {"team": f"t{i}"}}) for i in range(1000)
    )
    t0 = time.perf_counter()
    for _ in range(20):
        matching_policies("down", Mon(labels={"team": "t999"}), policies)
    per = (time.perf_counter() - t0) / 20
    assert per < 0.5  # generous: it takes about a millisecond; only a pathological slowdown fails
