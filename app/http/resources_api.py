"""/api/v1/resources: every object of the ten kinds in the resource cache, with its status.

What `kubectl get` would show in a cluster, also in folder mode: spec, labels and the
controller's conditions. Specs hold references to Secrets, never their values, so the
cache is safe to show as it is.
"""

from __future__ import annotations

from typing import Any

import falcon

from app.http.errors import bad_request
from app.resources.registry import KINDS
from app.store import ResourceRecord, Store

_BY_ANY_NAME = {
    alias.lower(): info.kind
    for info in KINDS.values()
    for alias in (info.kind, info.plural, *info.short_names)
}


def resource_json(r: ResourceRecord) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "namespace": r.namespace or None,
        "name": r.name,
        "uid": r.uid,
        "generation": r.generation,
        "labels": r.labels,
        "valid": r.valid,
        "spec": r.spec,
        "status": r.status,
        "source": r.source or None,
        "owner": r.owner,
    }


class ResourceList:
    """GET /api/v1/resources (every kind; filters `kind`, `namespace`) and /api/v1/resources/{kind}."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _kind(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        kind = _BY_ANY_NAME.get(raw.lower())
        if kind is None:
            raise falcon.HTTPNotFound(
                title="Not found", description=f"no kind {raw!r}; kinds are {', '.join(KINDS)}"
            )
        return kind

    def _list(self, req: falcon.Request, resp: falcon.Response, kind: str | None) -> None:
        namespace = req.get_param("namespace")
        valid = req.get_param("valid")
        if valid not in (None, "true", "false"):
            raise bad_request("valid", "must be true or false")
        records = self.store.resources.list(kind=kind, namespace=namespace)
        if valid is not None:
            records = [r for r in records if r.valid == (valid == "true")]
        items = [resource_json(r) for r in records]
        counts: dict[str, int] = {}
        for r in records:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        resp.media = {"items": items, "count": len(items), "kinds": counts}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._list(req, resp, self._kind(req.get_param("kind")))

    def on_get_kind(self, req: falcon.Request, resp: falcon.Response, kind: str) -> None:
        self._list(req, resp, self._kind(kind))
