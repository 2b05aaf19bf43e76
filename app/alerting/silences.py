"""Silences: ad-hoc mutes that match monitors by label, name and namespace for a span of time.

As in Alertmanager, a silence matches when every matcher does; matchers see the monitor's
labels plus `__name__` and `__namespace__`, a missing label is the empty string, and a
regular expression must match the whole value. A silence is active from `startsAt`
(inclusive) to `endsAt` (exclusive); a time without a zone is UTC. Silences apply to
monitors in every namespace (narrow them with a `__namespace__` matcher). Patterns run on
RE2 (`app/resources/regex.py`): linear time, whatever a manifest author wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.alerting.routing import MonitorLike
from app.resources.kinds import Matcher, SilenceSpec
from app.resources.regex import Pattern, compile_pattern


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@dataclass(slots=True)
class SilenceView:
    uid: str
    namespace: str
    name: str
    spec: SilenceSpec
    _patterns: tuple[Pattern | None, ...] = ()

    def __post_init__(self) -> None:
        self._patterns = tuple(
            compile_pattern(m.value) if m.operator in ("=~", "!~") else None for m in self.spec.matchers
        )

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def active(self, now: datetime) -> bool:
        return _utc(self.spec.startsAt) <= now < _utc(self.spec.endsAt)

    def matches(self, monitor: MonitorLike) -> bool:
        fields = {**monitor.labels, "__name__": monitor.name, "__namespace__": monitor.namespace}
        return all(
            matcher_matches(m, fields.get(m.name, ""), p)
            for m, p in zip(self.spec.matchers, self._patterns, strict=True)
        )

    def describe(self) -> str:
        ends = _utc(self.spec.endsAt).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        who = f" by {self.spec.createdBy}" if self.spec.createdBy else ""
        why = f": {self.spec.comment}" if self.spec.comment else ""
        return f"silenced by {self.key}{who} until {ends}{why}"


def matcher_matches(m: Matcher, value: str, pattern: Pattern | None = None) -> bool:
    if m.operator == "=":
        return value == m.value
    if m.operator == "!=":
        return value != m.value
    rx = pattern or compile_pattern(m.value)
    full = rx.fullmatch(value) is not None
    return full if m.operator == "=~" else not full


def silencing(silences: Iterable[SilenceView], monitor: MonitorLike, now: datetime) -> SilenceView | None:
    """The first active silence that matches the monitor, or None."""
    for s in silences:
        if s.active(now) and s.matches(monitor):
            return s
    return None
