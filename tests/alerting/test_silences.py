"""Silences as tables: which monitors a silence mutes, and when."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from app.alerting.silences import SilenceView, silencing
from app.resources.kinds import SilenceSpec

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Mon:
    name: str = "checkout-api"
    namespace: str = "shop"
    labels: dict[str, str] = field(default_factory=lambda: {"team": "payments", "env": "prod"})
    uid: str = "m-1"


def silence(
    *matchers: tuple[str, str, str],
    starts: datetime = NOW - timedelta(hours=1),
    ends: datetime = NOW + timedelta(hours=1),
    **extra: Any,
) -> SilenceView:
    spec = SilenceSpec.model_validate(
        {
            "matchers": [{"name": n, "operator": op, "value": v} for n, op, v in matchers],
            "startsAt": starts,
            "endsAt": ends,
            **extra,
        }
    )
    return SilenceView("uid", "ops", "db-migration", spec)


MATCHES = [
    pytest.param([("team", "=", "payments")], True, id="equal"),
    pytest.param([("team", "=", "search")], False, id="equal-differs"),
    pytest.param([("team", "!=", "search")], True, id="not-equal"),
    pytest.param([("team", "!=", "payments")], False, id="not-equal-same"),
    pytest.param([("team", "=~", "pay.*")], True, id="regex"),
    pytest.param([("team", "=~", "pay")], False, id="regex-must-match-the-whole-value"),
    pytest.param([("team", "!~", "search|ops")], True, id="negative-regex"),
    pytest.param([("__name__", "=", "checkout-api")], True, id="by-name"),
    pytest.param([("__name__", "=~", "checkout-.*")], True, id="by-name-regex"),
    pytest.param([("__namespace__", "=", "shop")], True, id="by-namespace"),
    pytest.param([("__namespace__", "=", "other")], False, id="by-other-namespace"),
    pytest.param([("missing", "=", "")], True, id="missing-label-is-empty"),
    pytest.param([("missing", "!=", "")], False, id="missing-label-not-nonempty"),
    pytest.param([("team", "=", "payments"), ("env", "=", "staging")], False, id="every-matcher-must-match"),
    pytest.param([("team", "=", "payments"), ("env", "=~", "prod|staging")], True, id="all-match"),
]


@pytest.mark.parametrize(("matchers", "muted"), MATCHES)
def test_silence_matchers(matchers: list[tuple[str, str, str]], muted: bool) -> None:
    assert silence(*matchers).matches(Mon()) is muted


WHEN = [
    pytest.param(NOW - timedelta(minutes=5), NOW + timedelta(minutes=5), True, id="active"),
    pytest.param(NOW, NOW + timedelta(minutes=5), True, id="starts-now-inclusive"),
    pytest.param(NOW - timedelta(minutes=5), NOW, False, id="ends-now-exclusive"),
    pytest.param(NOW + timedelta(minutes=1), NOW + timedelta(minutes=5), False, id="not-yet"),
    pytest.param(NOW - timedelta(hours=2), NOW - timedelta(hours=1), False, id="expired"),
    pytest.param(datetime(2024, 5, 1, 11), datetime(2024, 5, 1, 13), True, id="naive-times-are-utc"),
]


@pytest.mark.parametrize(("starts", "ends", "active"), WHEN)
def test_silence_window(starts: datetime, ends: datetime, active: bool) -> None:
    s = silence(("team", "=", "payments"), starts=starts, ends=ends)
    assert (silencing([s], Mon(), NOW) is s) is active


def test_description_names_the_silence_author_and_comment() -> None:
    s = silence(("team", "=", "payments"), comment="DB migration", createdBy="alice")
    assert s.describe() == "silenced by ops/db-migration by alice until 2024-05-01T13:00:00Z: DB migration"


@pytest.mark.parametrize("pattern", ["(a+)+b", "(a|a)*c", "(.*a){20}", "(x+x+)+y"])
def test_catastrophic_patterns_match_in_linear_time(pattern: str) -> None:
    """On Python's backtracking `re` each of these takes seconds (or years) on 60 characters."""
    s = silence(("team", "=~", pattern))
    mon = Mon(labels={"team": "a" * 100_000 + "!"})
    started = time.perf_counter()
    assert silencing([s], mon, NOW) is None
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("pattern", "why"),
    [(r"(a)\1", "backreferences"), ("(?=a)a", "lookaround"), ("a" * 1025, "at most 1024")],
    ids=["backreference", "lookahead", "too-long"],
)
def test_patterns_re2_cannot_run_in_linear_time_are_invalid(pattern: str, why: str) -> None:
    with pytest.raises(ValidationError) as caught:
        silence(("team", "=~", pattern))
    assert why.split()[0] in str(caught.value) or why in str(caught.value)
