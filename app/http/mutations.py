"""Changes through the API: resources of every kind, Silences, pausing monitors, acknowledging
incidents, test notifications, and the export of everything as YAML.

Resource changes are not written to the cache: they go where manifests live (the folder,
or the Kubernetes API) through the injected `ResourceWriter`, and the controller brings
them in as it would a `git pull` or a `kubectl apply`. Who may call what is decided by the
access middleware before any responder here runs; each change is an audit event.
"""

from __future__ import annotations

import secrets as random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon
import requests

from app.alerting.routing import ProviderView
from app.http import silence_form
from app.http.access.audit import Auditor
from app.http.access.login import read_body
from app.http.access.middleware import sees_private
from app.http.access.principal import Principal
from app.http.resources_api import resource_json
from app.notifiers import dispatch
from app.notifiers.base import Message
from app.resources.common import FULL_API_VERSION
from app.resources.kinds import NotificationProviderSpec
from app.resources.loader import SecretStore
from app.resources.registry import KINDS, ResourceError, parse_resource
from app.resources.writer import ResourceWriter, WriteError, dump
from app.store import ResourceRecord, Store
from app.store.timeutil import iso

_BY_ANY_NAME = {a.lower(): i.kind for i in KINDS.values() for a in (i.kind, i.plural, *i.short_names)}


def manifest(rec: ResourceRecord) -> dict[str, Any]:
    """The object as one would commit it: no status, no uid, Secret references but never values."""
    meta: dict[str, Any] = {"name": rec.name}
    if KINDS[rec.kind].namespaced:
        meta["namespace"] = rec.namespace
    if rec.labels:
        meta["labels"] = dict(rec.labels)
    return {"apiVersion": FULL_API_VERSION, "kind": rec.kind, "metadata": meta, "spec": rec.spec}


def kind_of(raw: str) -> str:
    kind = _BY_ANY_NAME.get(raw.lower())
    if kind is None:
        raise falcon.HTTPNotFound(
            title="Not found", description=f"no kind {raw!r}; kinds are {', '.join(KINDS)}"
        )
    return kind


class Changes:
    """The shared steps of every change: validate, write, audit, answer."""

    def __init__(self, store: Store, writer: ResourceWriter | None, audit: Auditor) -> None:
        self.store, self.writer, self.audit = store, writer, audit

    def _writer(self) -> ResourceWriter:
        if self.writer is None:
            raise falcon.HTTPServiceUnavailable(
                title="No place to write",
                description="this process has neither a manifests folder nor the Kubernetes API to write to",
            )
        return self.writer

    def record(self, kind: str, namespace: str, name: str) -> ResourceRecord:
        rec = self.store.resources.get(kind, _namespace(kind, namespace), name)
        if rec is None or rec.spec is None:
            raise falcon.HTTPNotFound(title="Not found", description=f"no {kind} {namespace}/{name}")
        if rec.owner:
            raise falcon.HTTPConflict(
                title="Generated object",
                description=f"{kind} {namespace}/{name} comes from a MonitorSet; change that",
            )
        return rec

    def apply(
        self, req: falcon.Request, doc: dict[str, Any], action: str, created: bool = False
    ) -> dict[str, Any]:
        doc.setdefault("apiVersion", FULL_API_VERSION)
        try:
            res = parse_resource(doc, "default")
        except ResourceError as exc:
            raise falcon.HTTPUnprocessableEntity(
                title="Invalid manifest", description="; ".join(str(p) for p in exc.problems)
            ) from None
        existing = self.store.resources.get(res.kind, res.namespace, res.name)
        if created and existing is not None:
            raise falcon.HTTPConflict(
                title="Exists", description=f"{res.kind} {res.namespace}/{res.name} exists"
            )
        out = manifest_of(res.kind, res.namespace, res.name, dict(res.labels), res.raw_spec)
        try:
            where = self._writer().apply(out, existing.source if existing else None)
        except WriteError as exc:
            raise falcon.HTTPConflict(title="Cannot write", description=str(exc)) from None
        p: Principal = req.context.principal
        target = f"{res.kind} {res.namespace + '/' if res.namespace else ''}{res.name}"
        self.audit.record(req, p.name, "mutation", target, change=action, written=where)
        return {"applied": self._writer().target, "location": where, "object": out}

    def delete(self, req: falcon.Request, kind: str, namespace: str, name: str) -> dict[str, Any]:
        rec = self.record(kind, namespace, name)
        try:
            gone = self._writer().delete(kind, rec.namespace, name, rec.source or None)
        except WriteError as exc:
            raise falcon.HTTPConflict(title="Cannot write", description=str(exc)) from None
        if not gone:
            raise falcon.HTTPConflict(
                title="Cannot delete",
                description=f"{kind} {namespace}/{name} is not in a file this process can edit",
            )
        p: Principal = req.context.principal
        self.audit.record(req, p.name, "mutation", f"{kind} {namespace}/{name}", change="delete")
        return {"deleted": f"{kind} {namespace}/{name}", "applied": self._writer().target}


def manifest_of(kind: str, namespace: str, name: str, labels: dict[str, str], spec: Any) -> dict[str, Any]:
    rec = ResourceRecord(uid="", kind=kind, namespace=namespace, name=name, spec=spec, labels=labels)
    return manifest(rec)


def _time(raw: Any) -> datetime | None:
    """A time from a spec (RFC 3339; a time without a zone is UTC), or None."""
    try:
        t = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _namespace(kind: str, namespace: str) -> str:
    """Cluster-scoped kinds (KubeKumaSettings) take `-` for the namespace in paths."""
    return namespace if KINDS[kind].namespaced and namespace != "-" else ""


class ResourceItem:
    """POST /api/v1/resources/{kind}/{namespace}; GET, PUT, DELETE …/{kind}/{namespace}/{name}."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def on_post_namespace(
        self, req: falcon.Request, resp: falcon.Response, kind: str, namespace: str
    ) -> None:
        k = kind_of(kind)
        doc = read_body(req)
        meta: dict[str, Any] = doc["metadata"] if isinstance(doc.get("metadata"), dict) else {}
        doc["kind"], doc["metadata"] = k, {**meta}
        if KINDS[k].namespaced:
            doc["metadata"]["namespace"] = namespace
        resp.media = self.changes.apply(req, doc, "create", created=True)
        resp.status = falcon.HTTP_201

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, kind: str, namespace: str, name: str
    ) -> None:
        k = kind_of(kind)
        rec = self.changes.store.resources.get(k, _namespace(k, namespace), name)
        if rec is None:
            raise falcon.HTTPNotFound(title="Not found", description=f"no {k} {namespace}/{name}")
        resp.media = resource_json(rec, sees_private(req))

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, kind: str, namespace: str, name: str
    ) -> None:
        k = kind_of(kind)
        doc = read_body(req)
        meta: dict[str, Any] = doc["metadata"] if isinstance(doc.get("metadata"), dict) else {}
        doc["kind"], doc["metadata"] = k, {**meta, "name": name}
        if KINDS[k].namespaced:
            doc["metadata"]["namespace"] = namespace
        resp.media = self.changes.apply(req, doc, "update")

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, kind: str, namespace: str, name: str
    ) -> None:
        resp.media = self.changes.delete(req, kind_of(kind), namespace, name)


class Silences:
    """POST /api/v1/silences (create), PUT …/{namespace}/{name} (update), POST …/{name}/expire."""

    def __init__(self, changes: Changes, clock: Callable[[], datetime]) -> None:
        self.changes, self.clock = changes, clock

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = self.clock()
        items = []
        for rec in self.changes.store.resources.list(kind="Silence"):
            out = resource_json(rec, sees_private(req))
            ends = _time((rec.spec or {}).get("endsAt"))
            out["active"] = ends is not None and ends > now
            items.append(out)
        resp.media = {"items": items, "count": len(items)}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req)
        p: Principal = req.context.principal
        try:
            body = silence_form.expand(body, self.clock())  # the short form the dashboard sends
        except ValueError as exc:
            raise falcon.HTTPBadRequest(title="Invalid body", description=str(exc)) from None
        spec = body.get("spec", body)
        if not isinstance(spec, dict):
            raise falcon.HTTPBadRequest(title="Invalid body", description="spec must be an object")
        spec = {"startsAt": iso(self.clock()), **spec, "createdBy": p.name}
        meta: dict[str, Any] = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
        name = meta.get("name") or f"silence-{random.token_hex(4)}"
        doc = {"kind": "Silence", "metadata": {"name": name, "namespace": meta.get("namespace", "default")},
               "spec": spec}  # fmt: skip
        resp.media = self.changes.apply(req, doc, "create", created=True)
        resp.status = falcon.HTTP_201

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        rec = self.changes.record("Silence", namespace, name)
        body = read_body(req)
        change = body.get("spec", body)
        if not isinstance(change, dict):
            raise falcon.HTTPBadRequest(title="Invalid body", description="spec must be an object")
        spec = {**(rec.spec or {}), **change}
        doc = {"kind": "Silence", "metadata": {"name": name, "namespace": namespace, "labels": rec.labels},
               "spec": spec}  # fmt: skip
        resp.media = self.changes.apply(req, doc, "update")

    def on_post_expire(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        rec = self.changes.record("Silence", namespace, name)
        spec = dict(rec.spec or {})
        now = self.clock()
        starts = _time(spec.get("startsAt"))
        if starts is None or starts >= now:  # not started yet: it ends before it begins
            spec["startsAt"] = iso(now - timedelta(seconds=1))
        spec["endsAt"] = iso(now)
        doc = {"kind": "Silence", "metadata": {"name": name, "namespace": namespace, "labels": rec.labels},
               "spec": spec}  # fmt: skip
        resp.media = self.changes.apply(req, doc, "expire")


class MonitorPause:
    """POST /api/v1/monitors/{namespace}/{name}/pause and /resume: spec.enabled in the manifest."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def _set(self, req: falcon.Request, namespace: str, name: str, enabled: bool) -> dict[str, Any]:
        rec = self.changes.record("Monitor", namespace, name)
        doc = manifest(rec)
        doc["spec"] = {**(rec.spec or {}), "enabled": enabled}
        return self.changes.apply(req, doc, "resume" if enabled else "pause")

    def on_post_pause(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        resp.media = self._set(req, namespace, name, False)

    def on_post_resume(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        resp.media = self._set(req, namespace, name, True)


class IncidentAck:
    """POST /api/v1/incidents/{id}/ack: reminders stop; the acknowledger is recorded."""

    def __init__(self, store: Store, audit: Auditor, clock: Callable[[], datetime]) -> None:
        self.store, self.audit, self.clock = store, audit, clock

    def on_post(self, req: falcon.Request, resp: falcon.Response, incident_id: str) -> None:
        if not incident_id.isdigit():
            raise falcon.HTTPNotFound(title="Not found", description=f"no incident {incident_id}")
        p: Principal = req.context.principal
        inc = self.store.incidents.acknowledge(int(incident_id), p.name, self.clock())
        if inc is None:
            raise falcon.HTTPNotFound(title="Not found", description=f"no incident {incident_id}")
        self.audit.record(req, p.name, "mutation", f"incident {incident_id}", change="acknowledge")
        resp.media = inc.to_json()


class ProviderTest:
    """POST /api/v1/providers/{namespace}/{name}/test: one test message through the provider, now."""

    def __init__(
        self, store: Store, secrets: SecretStore, audit: Auditor, clock: Callable[[], datetime]
    ) -> None:
        self.store, self.secrets, self.audit, self.clock = store, secrets, audit, clock

    def on_post(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        rec = self.store.resources.get("NotificationProvider", namespace, name)
        if rec is None or rec.spec is None:
            raise falcon.HTTPNotFound(
                title="Not found", description=f"no NotificationProvider {namespace}/{name}"
            )
        spec = NotificationProviderSpec.model_validate(rec.spec)
        provider = ProviderView(rec.uid, rec.namespace, rec.name, spec.type, spec.enabled, spec.settings,
                                rec.generation, rec.status)  # fmt: skip
        p: Principal = req.context.principal
        now = self.clock()
        msg = Message(
            event="up",
            title="KubeKuma test notification",
            body=f"A test sent by {p.name} to check that {namespace}/{name} works.",
            monitor="test",
            namespace=namespace,
            monitor_uid="test",
            time=now,
            key=f"test:{rec.uid}:{random.token_hex(4)}",
            state="UP",
            extra={"test": True},
        )
        with requests.Session() as session:
            ctx = dispatch.context(provider, self.secrets, session)
            try:
                dispatch.send(provider, msg, ctx)
                error = None
            except Exception as exc:
                error = str(dispatch.safe_error(exc, ctx))
        self.audit.record(req, p.name, "mutation", f"NotificationProvider {namespace}/{name}",
                          change="test notification", ok=error is None)  # fmt: skip
        if error is not None:
            raise falcon.HTTPBadGateway(title="The provider refused the test", description=error)
        resp.media = {"sent": True, "provider": f"{namespace}/{name}", "type": spec.type}


class Export:
    """GET /api/v1/export: every object as multi-document YAML, ready to commit."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = req.get_param("kind")
        kind = kind_of(raw) if raw else None
        records = [
            r for r in self.store.resources.list(kind=kind) if r.valid and r.spec is not None and not r.owner
        ]
        records.sort(key=lambda r: (list(KINDS).index(r.kind), r.namespace, r.name))
        resp.content_type = "application/yaml"
        resp.text = "".join("---\n" + dump(manifest(r)) for r in records)


def register(app: falcon.App, store: Store, secrets: SecretStore, writer: ResourceWriter | None,
             audit: Auditor, clock: Callable[[], datetime]) -> None:  # fmt: skip
    changes = Changes(store, writer, audit)
    item = ResourceItem(changes)
    app.add_route("/api/v1/resources/{kind}/{namespace}", item, suffix="namespace")
    app.add_route("/api/v1/resources/{kind}/{namespace}/{name}", item)
    silences = Silences(changes, clock)
    app.add_route("/api/v1/silences", silences)
    app.add_route("/api/v1/silences/{namespace}/{name}", silences, suffix="item")
    app.add_route("/api/v1/silences/{namespace}/{name}/expire", silences, suffix="expire")
    pause = MonitorPause(changes)
    app.add_route("/api/v1/monitors/{namespace}/{name}/pause", pause, suffix="pause")
    app.add_route("/api/v1/monitors/{namespace}/{name}/resume", pause, suffix="resume")
    app.add_route("/api/v1/incidents/{incident_id}/ack", IncidentAck(store, audit, clock))
    app.add_route("/api/v1/providers/{namespace}/{name}/test", ProviderTest(store, secrets, audit, clock))
    app.add_route("/api/v1/export", Export(store))


__all__ = ["ResourceItem", "register"]
