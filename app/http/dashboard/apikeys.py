"""API keys (`/api-keys`): name, role, scopes, when added, last used and expiry — never the secret.

An ApiKey resource holds only a reference to the Secret with the key's hash, and this page
shows neither. "Added" is when KubeKuma first saw the key (its Valid condition's first
transition); "last used" is what the access middleware records, at most once a minute.
Keys are created with `kubekuma apikey create` and committed as manifests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import falcon
from pydantic import ValidationError

from app.http.dashboard import Deps, render
from app.http.dashboard.openapi import page
from app.resources.kinds import ApiKeySpec
from app.store import ResourceRecord


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def key_line(rec: ResourceRecord, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"key": f"{rec.namespace}/{rec.name}", "name": rec.name, "namespace": rec.namespace}
    seen = [t for c in rec.status.get("conditions", []) if (t := _time(c.get("lastTransitionTime")))]
    out["added"] = min(seen) if seen else None
    out["last_used"] = _time(rec.status.get("lastUsedAt"))
    try:
        spec = ApiKeySpec.model_validate(rec.spec or {})
    except ValidationError:
        return {**out, "valid": False, "role": "—", "scopes": [], "expires": None, "expired": False}
    expires = (
        spec.expiresAt
        if spec.expiresAt is None or spec.expiresAt.tzinfo
        else spec.expiresAt.replace(tzinfo=UTC)
    )
    return {**out, "valid": rec.valid, "role": spec.role, "scopes": spec.scopes, "expires": expires,
            "expired": expires is not None and expires <= now}  # fmt: skip


class ApiKeysPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = self.deps.clock()
        keys = sorted((key_line(r, now) for r in self.deps.store.resources.list(kind="ApiKey")),
                      key=lambda k: k["key"])  # fmt: skip
        render(req, resp, "dashboard/apikeys.html", active="api-keys", keys=keys)


OPENAPI = {
    "/api-keys": {"get": page("API keys: role, scopes, added, last used, expiry; never the key (HTML)")}
}


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/api-keys", ApiKeysPage(deps))
