"""Property-based fuzzing of every query-parameter parser: a value within bounds, or a clean refusal."""

from __future__ import annotations

import math
from datetime import UTC
from urllib.parse import urlencode

import falcon
import falcon.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from app.http.alerts import _choice as alert_choice
from app.http.alerts import _page
from app.http.errors import int_param
from app.http.monitors import EARLIEST, LATEST, _choice, time_param
from app.http.push import parse_json_body, parse_ping, parse_push
from app.http.selectors import SelectorError, parse_selector
from app.uptime.sla import parse_window

FUZZ = settings(max_examples=300, deadline=1000)
# Text that looks like our inputs and text that does not: digits of every script, signs, zones, controls.
_PIECES = [*"0123456789٣２-+:.TZtz ,=!()_/\n\x00é", "in", "notin", "24h", "NaN", "inf", "2024-05-01T12:00:00"]
junk = st.lists(st.sampled_from(_PIECES), max_size=20).map("".join) | st.text(max_size=40)


def request(name: str, value: str) -> falcon.Request:
    return falcon.testing.create_req(query_string=urlencode({name: value}))


@FUZZ
@given(junk, st.integers(0, 10), st.integers(10, 2**62))
def test_int_param(value: str, lo: int, hi: int) -> None:
    try:
        got = int_param(request("limit", value), "limit", None, lo, hi)
    except falcon.HTTPBadRequest:
        return
    assert got is not None and lo <= got <= hi and value.isascii() and value.isdigit()


@FUZZ
@given(junk | st.datetimes().map(lambda d: d.isoformat()) | st.datetimes(timezones=st.timezones()).map(str))
def test_time_param(value: str) -> None:
    try:
        got = time_param(request("since", value), "since")
    except falcon.HTTPBadRequest:
        return
    assert got is not None and got.tzinfo == UTC and EARLIEST <= got <= LATEST


@FUZZ
@given(junk, junk)
def test_paging(since: str, until: str) -> None:
    req = falcon.testing.create_req(query_string=urlencode({"since": since, "until": until, "limit": since}))
    try:
        limit, _, lo, hi = _page(req)
    except falcon.HTTPBadRequest:
        return
    assert 1 <= limit <= 1000 and (lo is None or hi is None or lo <= hi)


@FUZZ
@given(junk)
def test_selector(value: str) -> None:
    try:
        matches = parse_selector(value)
    except SelectorError:
        return
    assert matches({}) in (True, False)


@FUZZ
@given(junk)
def test_window(value: str) -> None:
    try:
        length = parse_window(value)
    except ValueError:
        return
    assert 60 <= length.total_seconds() <= 730 * 86400


@FUZZ
@given(junk | st.floats() | st.integers() | st.booleans() | st.none())
def test_ping(value: object) -> None:
    try:
        ping = parse_ping(value)
    except ValueError:
        return
    assert ping is None or (math.isfinite(ping) and 0 <= ping <= 3_600_000)


@FUZZ
@given(st.none() | junk, st.dictionaries(st.sampled_from(["status", "msg", "ping"]), junk | st.integers()))
def test_push(action: str | None, params: dict[str, object]) -> None:
    try:
        kind, ok, msg, _ = parse_push(action, params)
    except ValueError:
        return
    assert kind in ("start", "result") and isinstance(ok, bool) and len(msg) <= 500


@FUZZ
@given(st.binary(max_size=300) | junk.map(str.encode))
def test_push_json_body(data: bytes) -> None:
    try:
        body = parse_json_body(data)
    except ValueError:
        return
    assert isinstance(body, dict)


@FUZZ
@given(junk)
def test_choices(value: str) -> None:
    try:
        got = _choice(request("state", value), "state", ["UP", "DOWN"], upper=True)
    except falcon.HTTPBadRequest:
        got = "refused"
    assert got in ("UP", "DOWN", "refused")
    try:
        alert = alert_choice(request("open", value), "open", ("true", "false"))
    except falcon.HTTPBadRequest:
        alert = "refused"
    assert alert in ("true", "false", "refused")
