"""Which policies an event reaches, and through them which providers.

Policies are tried in priority order (lower number first, then namespace and name, so
the order never depends on how the cache listed them). A policy matches when it
subscribes to the event's trigger and selects the monitor: its namespaces (its own when
none are listed), its monitorNames (any when none are listed) and its label selector all
agree. The first matching policy ends the search unless it says `continue: true`. A
policy that does not subscribe to the trigger does not stop the search, so a narrow
"pages only for down" policy above a catch-all leaves certificate warnings to the latter.

A provider reached through several policies gets one message: the first policy's.

A broken route never hides the others: a reference to a provider that does not exist is
returned in `Routing.missing` (the planner turns it into a failed delivery with the
reason), and a matching policy none of whose providers exist does not end the search, so
the next matching policy still routes the event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.resources.kinds import NotificationPolicySpec


class MonitorLike(Protocol):
    uid: str
    namespace: str
    name: str
    labels: dict[str, str]


@dataclass(frozen=True, slots=True)
class ProviderView:
    uid: str
    namespace: str
    name: str
    type: str
    enabled: bool
    settings: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    generation: int = 1
    status: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def missing(cls, namespace: str, name: str) -> ProviderView:
        """A stand-in for a provider a policy names but that does not exist, to record the failure against."""
        return cls(f"missing:NotificationProvider/{namespace}/{name}", namespace, name, "", False)


@dataclass(slots=True)
class PolicyView:
    uid: str
    namespace: str
    name: str
    spec: NotificationPolicySpec
    _namespaces: frozenset[str] = frozenset()
    _names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Precomputed once per cache revision: routing runs for every transition.
        self._namespaces = frozenset(self.spec.namespaces or [self.namespace])
        self._names = frozenset(self.spec.monitorNames)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def order(self) -> tuple[int, str, str]:
        return (self.spec.priority, self.namespace, self.name)

    def selects(self, monitor: MonitorLike) -> bool:
        if "*" not in self._namespaces and monitor.namespace not in self._namespaces:
            return False
        if self._names and monitor.name not in self._names:
            return False
        return self.spec.monitorSelector.matches(monitor.labels)

    def matches(self, trigger: str, monitor: MonitorLike) -> bool:
        return trigger in self.spec.triggers and self.selects(monitor)

    def provider_keys(self) -> list[tuple[str, str]]:
        return [(ref.namespace or self.namespace, ref.name) for ref in self.spec.providers]


def sort_policies(policies: Iterable[PolicyView]) -> list[PolicyView]:
    return sorted(policies, key=lambda p: p.order)


def matching_policies(trigger: str, monitor: MonitorLike, ordered: Iterable[PolicyView]) -> list[PolicyView]:
    """The policies an event reaches, in order; `ordered` must already be sorted (see sort_policies)."""
    out = []
    for policy in ordered:
        if policy.matches(trigger, monitor):
            out.append(policy)
            if not policy.spec.continue_:
                break
    return out


@dataclass(frozen=True, slots=True)
class Route:
    policy: PolicyView
    provider: ProviderView


@dataclass(frozen=True, slots=True)
class MissingRoute:
    """A matching policy's reference to a provider that does not exist."""

    policy: PolicyView
    namespace: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def reason(self) -> str:
        return f"provider {self.key} does not exist"

    def __str__(self) -> str:
        return f"{self.policy.key} -> {self.key}"


@dataclass(slots=True)
class Routing:
    routes: list[Route]
    missing: list[MissingRoute]  # one per provider key, through the first policy that named it


def route(
    trigger: str, monitor: MonitorLike, ordered: Iterable[PolicyView],
    providers: Mapping[tuple[str, str], ProviderView],
) -> Routing:  # fmt: skip
    """One route per provider reached, through the first policy that reached it.

    Same search as `matching_policies`, except that a policy whose providers are all
    missing does not end it.
    """
    routes: list[Route] = []
    seen: set[str] = set()
    missing: dict[tuple[str, str], MissingRoute] = {}
    for policy in ordered:
        if not policy.matches(trigger, monitor):
            continue
        reached = False
        for key in policy.provider_keys():
            provider = providers.get(key)
            if provider is None:
                missing.setdefault(key, MissingRoute(policy, *key))
                continue
            reached = True
            if provider.uid in seen:
                continue
            seen.add(provider.uid)
            routes.append(Route(policy, provider))
        if reached and not policy.spec.continue_:
            break
    return Routing(routes, list(missing.values()))
