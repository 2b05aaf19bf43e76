"""The short form of a new silence, as the dashboard's form and a shell send it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.http.silence_form import expand, parse_matchers

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "matchers"),
    [
        pytest.param("team=payments", [("team", "=", "payments")], id="one"),
        pytest.param(" team = payments ,tier!=low", [("team", "=", "payments"), ("tier", "!=", "low")],
                     id="spaces-and-comma"),
        pytest.param("__name__=~checkout-.*\n__namespace__=shop", [("__name__", "=~", "checkout-.*"),
                     ("__namespace__", "=", "shop")], id="regex-and-new-line"),
        pytest.param("a==b", [("a", "=", "=b")], id="value-may-start-with-equals"),
        pytest.param("env!~dev|test", [("env", "!~", "dev|test")], id="not-regex"),
    ],
)  # fmt: skip
def test_matchers_as_text(text: str, matchers: list[tuple[str, str, str]]) -> None:
    assert [(m["name"], m["operator"], m["value"]) for m in parse_matchers(text)] == matchers


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("", "at least one", id="empty"),
        pytest.param("team", "is not name=value", id="no-operator"),
        pytest.param("9team=x", "is not name=value", id="bad-name"),
        pytest.param(",".join(["a=b"] * 21), "at most 20", id="too-many"),
        pytest.param("a=" + "x" * 2000, "at most 2000 characters", id="too-long"),
    ],
)
def test_bad_matchers_say_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_matchers(text)


def test_expand_starts_now_and_lasts_the_duration() -> None:
    body = expand(
        {"namespace": "shop", "matchers": "team=search", "duration": "90m", "comment": "reindex"}, NOW
    )
    assert body == {
        "metadata": {"namespace": "shop"},
        "spec": {"matchers": [{"name": "team", "operator": "=", "value": "search"}],
                 "startsAt": "2026-05-01T12:00:00Z", "endsAt": "2026-05-01T13:30:00Z", "comment": "reindex"},
    }  # fmt: skip
    full = {"spec": {"matchers": [], "endsAt": "2099-01-01T00:00:00Z"}}
    assert expand(full, NOW) is full, "the full form passes through"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param({"matchers": "a=b"}, "duration", id="no-duration"),
        pytest.param({"matchers": "a=b", "duration": "0s"}, "more than 0", id="zero"),
        pytest.param({"matchers": "a=b", "duration": "400d"}, "at most 366d", id="too-long"),
        pytest.param({"matchers": "a=b", "duration": "1h", "endsAt": "x"}, "unknown field", id="mixed-forms"),
        pytest.param({"matchers": "a=b", "duration": "1h", "comment": 5}, "comment", id="comment-not-text"),
    ],
)
def test_bad_short_forms(body: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        expand(body, NOW)
