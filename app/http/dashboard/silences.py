"""Silences (`/silences`): active, upcoming and expired ones; create from a monitor or a label set; expire.

The list reads every Silence in the resource cache (an invalid one shows with its
problem, so a typo never hides). The form posts the short form of `POST /api/v1/silences`
(matchers as text, a duration, a comment; see `app.http.silence_form`); `?monitor=ns/name`
fills it in for one monitor and `?labels=team=payments,tier=critical` for a label set.
Expiring posts to `POST /api/v1/silences/{namespace}/{name}/expire`. Both are shown only to
people who may change things.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import falcon
from pydantic import ValidationError

from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import KEY, split_key, text_param
from app.http.dashboard.openapi import page, query
from app.http.errors import bad_request
from app.http.silence_form import parse_matchers
from app.resources.kinds import SilenceSpec
from app.store import ResourceRecord

DURATIONS = ("30m", "1h", "2h", "4h", "8h", "1d", "3d", "7d")


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def matcher_text(m: Any) -> str:
    return f"{m.name}{m.operator}{m.value}"


def item(rec: ResourceRecord, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"namespace": rec.namespace, "name": rec.name, "key": f"{rec.namespace}/{rec.name}"}
    try:
        spec = SilenceSpec.model_validate(rec.spec or {})
    except ValidationError as exc:
        return {**out, "state": "invalid", "problem": str(exc.errors()[0].get("msg", "invalid"))[:200]}
    starts, ends = _utc(spec.startsAt), _utc(spec.endsAt)
    state = "expired" if ends <= now else ("upcoming" if starts > now else "active")
    return {**out, "state": state, "starts": starts, "ends": ends, "comment": spec.comment,
            "by": spec.createdBy, "matchers": [matcher_text(m) for m in spec.matchers]}  # fmt: skip


def prefill(req: falcon.Request) -> dict[str, str]:
    """The form's starting values from `?monitor=` or `?labels=`."""
    monitor, labels = text_param(req, "monitor"), text_param(req, "labels")
    if monitor:
        if (key := split_key(monitor)) is None:
            raise bad_request("monitor", "namespace/name")
        return {"namespace": key[0], "matchers": f"__namespace__={key[0]}\n__name__={key[1]}",
                "comment": f"Silence for {monitor}"}  # fmt: skip
    if labels:
        try:
            parsed = parse_matchers(labels)
        except ValueError as exc:
            raise bad_request("labels", str(exc)) from None
        text = "\n".join(f"{m['name']}{m['operator']}{m['value']}" for m in parsed)
        return {"namespace": "", "matchers": text, "comment": ""}
    return {"namespace": "", "matchers": "", "comment": ""}


class SilencesPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = self.deps.clock()
        form = prefill(req)
        items = [item(r, now) for r in self.deps.store.resources.list(kind="Silence")]
        order = {"active": 0, "upcoming": 1, "invalid": 2, "expired": 3}
        items.sort(key=lambda i: (order[i["state"]], -(i.get("ends") or now).timestamp(), i["key"]))
        namespaces = sorted({m.namespace for m in self.deps.catalog.monitors()})
        render(req, resp, "dashboard/silences.html", active="silences", items=items, form=form,
               durations=DURATIONS, namespaces=namespaces or ["default"],
               open_form=bool(req.get_param("monitor") or req.get_param("labels")))  # fmt: skip


_MATCHER = "[A-Za-z_][A-Za-z0-9_./-]{0,40}(=~|!~|!=|=)[^,\\x00-\\x1f]{0,40}"
OPENAPI = {
    "/silences": {"get": page("silences: active, upcoming and expired; create and expire (HTML)", [
        query("monitor", "fill the new silence in for namespace/name", KEY),
        query("labels", "fill the new silence in for a label set: team=payments,tier!=low",
              {"type": "string", "maxLength": 200, "pattern": f"^({_MATCHER}(,{_MATCHER}){{0,9}})?$"}),
    ], bad_request=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/silences", SilencesPage(deps))
