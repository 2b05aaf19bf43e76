"""The short form of a new silence: matchers as text and a duration, as a person types them.

`POST /api/v1/silences` takes a full spec (`matchers` as a list, `endsAt`), and also this
form, which the dashboard's silence form sends and is handy from a shell:

    {"namespace": "shop", "matchers": "team=payments, __name__=~checkout-.*",
     "duration": "2h", "comment": "deploy"}

Matchers are `name` `=` `!=` `=~` `!~` `value`, separated by commas or new lines; the
silence starts now and lasts `duration`. `expand` turns it into the full form, or raises
ValueError with what is wrong; a body already in the full form passes through unchanged.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from app.resources.common import parse_duration
from app.store.timeutil import iso

MAX_MATCHERS = 20
MAX_TEXT = 2000
MAX_DURATION = timedelta(days=366)
_MATCHER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_./-]{0,252})\s*(=~|!~|!=|=)\s*(.*?)\s*")


def parse_matchers(text: str) -> list[dict[str, str]]:
    """'team=payments, __name__=~api-.*' -> [{name, operator, value}, ...]."""
    if len(text) > MAX_TEXT:
        raise ValueError(f"matchers: at most {MAX_TEXT} characters")
    parts = [p for p in re.split(r"[,\n]", text) if p.strip()]
    if not parts:
        raise ValueError("matchers: at least one, such as team=payments or __name__=checkout-api")
    if len(parts) > MAX_MATCHERS:
        raise ValueError(f"matchers: at most {MAX_MATCHERS}")
    out = []
    for p in parts:
        m = _MATCHER.fullmatch(p)
        if m is None:
            raise ValueError(f"matchers: {p.strip()[:60]!r} is not name=value (or !=, =~, !~)")
        out.append({"name": m.group(1), "operator": m.group(2), "value": m.group(3)})
    return out


def is_short(body: dict[str, Any]) -> bool:
    return isinstance(body.get("matchers"), str) or "duration" in body


def expand(body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The full body (`metadata` + `spec`) for a short-form body."""
    if not is_short(body):
        return body
    unknown = set(body) - {"namespace", "name", "matchers", "duration", "comment"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))} in the short form")
    matchers = body.get("matchers")
    spec: dict[str, Any] = {
        "matchers": parse_matchers(matchers) if isinstance(matchers, str) else matchers,
        "startsAt": iso(now),
    }
    try:
        length = timedelta(seconds=parse_duration(body.get("duration")))
    except ValueError as exc:
        raise ValueError(f"duration: {exc}") from None
    if not timedelta(0) < length <= MAX_DURATION:
        raise ValueError("duration: more than 0 and at most 366d")
    spec["endsAt"] = iso(now + length)
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_TEXT:
        raise ValueError(f"comment: a text of at most {MAX_TEXT} characters")
    spec["comment"] = comment
    meta = {k: body[k] for k in ("namespace", "name") if isinstance(body.get(k), str) and body[k]}
    return {"metadata": meta, "spec": spec}
