"""/api/v1/resources: every object of the ten kinds in the resource cache, with its status.

What `kubectl get` would show in a cluster, also in folder mode: spec, labels and the
controller's conditions. Specs hold references to Secrets, never their values. Status is
shown through `readable_status`: a push monitor's derived token is a credential (anyone
holding it can report DOWN), so anonymous readers never see it.
"""

from __future__ import annotations

from typing import Any

import falcon

from app.http.access.middleware import sees_private
from app.http.errors import bad_request
from app.resources.credentials import redact_value
from app.resources.registry import KINDS
from app.store import ResourceRecord, Store

_BY_ANY_NAME = {
    alias.lower(): info.kind
    for info in KINDS.values()
    for alias in (info.kind, info.plural, *info.short_names)
}


# Status fields that are credentials. An authorised view (the access issue) may add them back here.
PRIVATE_STATUS = frozenset({"pushToken"})


def readable_status(status: dict[str, Any], authorised: bool = False) -> dict[str, Any]:
    """The status a reader may see: everything but credentials, unless the reader is authorised."""
    if authorised:
        return dict(status)
    return {k: v for k, v in status.items() if k not in PRIVATE_STATUS}


def resource_json(r: ResourceRecord, authorised: bool = False) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "namespace": r.namespace or None,
        "name": r.name,
        "uid": r.uid,
        "generation": r.generation,
        "labels": r.labels,
        "valid": r.valid,
        "spec": redact_value(r.spec),
        "status": readable_status(r.status, authorised),
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
        private = sees_private(req)
        items = [resource_json(r, private) for r in records]
        counts: dict[str, int] = {}
        for r in records:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        resp.media = {"items": items, "count": len(items), "kinds": counts}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._list(req, resp, self._kind(req.get_param("kind")))

    def on_get_kind(self, req: falcon.Request, resp: falcon.Response, kind: str) -> None:
        self._list(req, resp, self._kind(kind))
