"""The OpenAPI 3.1 description of every route, served at /api/v1/openapi.json.

Written by hand next to the code it describes, and kept true by a test that walks the
routes registered on the Falcon app and the operations here in both directions: a route
without a description, or a description without a route, fails the build.
"""

from __future__ import annotations

from typing import Any

import falcon

from app import __version__
from app.http.access.openapi import secure
from app.http.alerts import EVENTS, STATUSES, TRANSITION_STATUSES
from app.http.dashboard.openapi import paths as dashboard_paths
from app.http.push import ACTION_PATTERN, PING_PATTERN
from app.http.selectors import SELECTOR_PATTERN
from app.model import State
from app.resources.monitor import MonitorType
from app.uptime import WINDOWS
from app.uptime.sla import WINDOW_PATTERN

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _path_param(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _query(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


NS, NAME = _path_param("namespace", "monitor namespace"), _path_param("name", "monitor name")
SLUG = _path_param("slug", "status page slug (StatusPage spec.slug)")
WINDOW = _query("window", "uptime window: 24h, 7d, 30d or 90d", {"type": "string", "enum": list(WINDOWS),
                                                                  "default": "24h"})  # fmt: skip
ANY_WINDOW = _query("window", "uptime window: 1m-2880m, 1h-8760h or 1d-730d", {
    "type": "string", "pattern": WINDOW_PATTERN, "default": "24h"})  # fmt: skip
ERRORS = {
    "400": {"description": "invalid parameter", "content": {"application/json": {"schema": _ref("Error")}}},
    "404": {"description": "not found", "content": {"application/json": {"schema": _ref("Error")}}},
}
NOT_MODIFIED = {"304": {"description": "not modified (If-None-Match matched the ETag)"}}
# Time filters: RFC 3339; times before 1970 or after 9000 are clamped to those years.
TIME: Schema = {"type": "string", "format": "date-time"}
LIMIT = _query("limit", "1-1000, default 50", {"type": "integer", "minimum": 1, "maximum": 1000})
BEFORE = _query("before", "the `next` of the previous page",
                {"type": "integer", "minimum": 1, "maximum": 2**62})  # fmt: skip
BOOL = {"type": "string", "enum": ["true", "false"]}
MONITOR_REF: Schema = {"type": "string", "pattern": "^[^/]+/.+$"}


def _json(summary: str, schema: Schema, params: list[Schema] | None = None, errors: bool = True,
          tags: tuple[str, ...] = ("api",)) -> Schema:  # fmt: skip
    responses: Schema = {"200": {"description": summary, "content": {"application/json": {"schema": schema}}}}
    responses |= NOT_MODIFIED
    if errors:
        responses |= ERRORS
    return {"summary": summary, "tags": list(tags), "parameters": params or [], "responses": responses}


def _media(summary: str, media: str, params: list[Schema] | None = None, tags: tuple[str, ...] = ("public",),
           not_found: str | None = "application/json", bad_request: bool = False) -> Schema:  # fmt: skip
    responses: Schema = {"200": {"description": summary, "content": {media: {"schema": {"type": "string"}}}}}
    responses |= NOT_MODIFIED
    if bad_request:
        responses["400"] = ERRORS["400"]
    if not_found == "application/json":
        responses["404"] = ERRORS["404"]
    elif not_found:  # status pages answer a missing page with a page a visitor can read
        page = {not_found: {"schema": {"type": "string"}}}
        responses["404"] = {"description": "no such page", "content": page}
    return {"summary": summary, "tags": list(tags), "parameters": params or [], "responses": responses}


def _badge(what: str, params: list[Schema] | None = None) -> Schema:
    label = _query("label", "text on the left (1-60 characters)", {"type": "string", "minLength": 1,
                                                                    "maxLength": 60})  # fmt: skip
    return {"get": _media(f"{what} badge (SVG, shields.io flat style); only for monitors on a status page",
                          "image/svg+xml", [NS, NAME, *(params or []), label], tags=("badges",),
                          bad_request=True)}  # fmt: skip


_OBJ: Schema = {"type": "object", "additionalProperties": True}
STATES = [s.value for s in State]
_ERROR_JSON = {"application/json": {"schema": _ref("Error")}}
_NULLABLE_NUM: Schema = {"type": ["number", "null"]}

SCHEMAS: dict[str, Schema] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                                         "description": {"type": "string"}}}}},
    "Monitor": {"type": "object", "properties": {
        "uid": {"type": "string"}, "namespace": {"type": "string"}, "name": {"type": "string"},
        "type": {"type": "string"}, "target": {"type": "string"}, "enabled": {"type": "boolean"},
        "interval": {"type": "number"}, "description": {"type": "string"},
        "state": {"type": ["string", "null"], "enum": ["UP", "DOWN", "PENDING", "MAINTENANCE", None]},
        "since": {"type": ["string", "null"], "format": "date-time"},
        "lastCheckTime": {"type": ["string", "null"], "format": "date-time"}, "latencyMs": _NULLABLE_NUM,
        "reason": {"type": "string"}, "failure": {"type": ["string", "null"]},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "conditions": {"type": "array", "items": _OBJ}}},
    "Uptime": {"type": "object", "properties": {
        "uptime": _NULLABLE_NUM, "uptimePercent": {"type": ["string", "null"]}, "avgLatencyMs": _NULLABLE_NUM,
        "up": {"type": "integer"}, "down": {"type": "integer"}, "maintenance": {"type": "integer"},
        "checks": {"type": "integer"}}},
    "Heartbeat": {"type": "object", "properties": {
        "id": {"type": "integer"}, "time": {"type": "string", "format": "date-time"},
        "state": {"type": "string"},
        "ok": {"type": "boolean"}, "latencyMs": _NULLABLE_NUM, "reason": {"type": "string"},
        "failure": {"type": ["string", "null"]}, "details": _OBJ}},
    "Incident": {"type": "object", "properties": {
        "id": {"type": "integer"}, "openedAt": {"type": "string", "format": "date-time"},
        "closedAt": {"type": ["string", "null"], "format": "date-time"}, "open": {"type": "boolean"},
        "durationSeconds": _NULLABLE_NUM, "failure": {"type": ["string", "null"]},
        "acknowledgedAt": {"type": ["string", "null"], "format": "date-time"},
        "acknowledgedBy": {"type": ["string", "null"]}}},
    "Transition": {"type": "object", "properties": {
        "id": {"type": "integer"}, "from": {"type": ["string", "null"]}, "to": {"type": "string"},
        "at": {"type": "string", "format": "date-time"}, "event": {"type": ["string", "null"]},
        "incidentId": {"type": ["integer", "null"]}, "status": {"type": "string"},
        "attempts": {"type": "integer"}, "note": {"type": ["string", "null"]}, "monitor": _OBJ}},
    "Delivery": {"type": "object", "properties": {
        "id": {"type": "integer"}, "event": {"type": "string"}, "status": {"type": "string"},
        "attempts": {"type": "integer"}, "monitor": _OBJ, "provider": _OBJ}, "additionalProperties": True},
    "MonitorDetail": {"allOf": [_ref("Monitor"), {"type": "object", "properties": {
        "spec": _OBJ, "heartbeats": {"type": "array", "items": _ref("Heartbeat")},
        "uptime": {"type": "object", "properties": {w: _ref("Uptime") for w in ("24h", "7d", "30d", "90d")}},
        "openIncident": {"oneOf": [_ref("Incident"), {"type": "null"}]},
        "certificate": {"oneOf": [_OBJ, {"type": "null"}]}}}]},
    "StatusPage": {"type": "object", "properties": {
        "slug": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "generatedAt": {"type": "string", "format": "date-time"},
        "status": {"type": "object", "properties": {"overall": {"type": "string", "enum": [
            "operational", "partial_outage", "major_outage", "maintenance", "unknown"]},
            "text": {"type": "string"}}},
        "groups": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "monitors": {"type": "array", "items": _OBJ}}}},
        "incidents": {"type": "object", "properties": {"open": {"type": "array", "items": _OBJ},
                                                       "recent": {"type": "array", "items": _OBJ}}},
        "maintenance": {"type": "object", "properties": {"active": {"type": "array", "items": _OBJ},
                                                         "upcoming": {"type": "array", "items": _OBJ}}}}},
    "Resource": {"type": "object", "properties": {
        "kind": {"type": "string"}, "namespace": {"type": ["string", "null"]}, "name": {"type": "string"},
        "uid": {"type": "string"}, "generation": {"type": "integer"}, "labels": _OBJ,
        "valid": {"type": "boolean"},
        "spec": {"oneOf": [_OBJ, {"type": "null"}]}, "status": _OBJ}},
}  # fmt: skip


def _list_of(name: str, extra: Schema | None = None) -> Schema:
    props: Schema = {"items": {"type": "array", "items": _ref(name)}, "count": {"type": "integer"}}
    return {"type": "object", "properties": props | (extra or {})}


_PUSH = {
    "summary": "report a push monitor's result (Uptime Kuma and healthchecks compatible); a JSON body "
               "({status, msg, ping}, at most 64 KiB) may stand in for the query",
    "tags": ["push"],
    "parameters": [_path_param("token", "the monitor's push token"),
                   _query("status", "up or down", {"type": "string", "enum": ["up", "down"]}),
                   _query("msg", "message (first 500 characters kept)"),
                   _query("ping", "latency in ms, 0-3600000", {"type": "string", "pattern": PING_PATTERN})],
    "responses": {"200": {"description": "recorded", "content": {"application/json": {"schema": _OBJ}}},
                  "400": ERRORS["400"], "404": ERRORS["404"],
                  "413": {"description": "body over 64 KiB", "content": _ERROR_JSON},
                  "429": {"description": "rate limited", "content": _ERROR_JSON}},
}  # fmt: skip
_PUSH_ACTION = _PUSH | {
    "parameters": [*_PUSH["parameters"], _path_param("action", "start, fail or an exit code 0-255",
                                                     {"type": "string", "pattern": ACTION_PATTERN})]
}  # fmt: skip


_NEXT: Schema = {"next": {"type": ["integer", "null"]}}
_PAGING = [LIMIT, BEFORE, _query("since", "RFC 3339; at or after", TIME),
           _query("until", "RFC 3339; before", TIME)]  # fmt: skip

PATHS: dict[str, Schema] = {
    "/healthz": {"get": _json("the process runs", _OBJ, errors=False, tags=("ops",))},
    "/readyz": {"get": _json("the database and the broker answer (503 otherwise)", _OBJ, errors=False,
                             tags=("ops",)) | {"responses": {
        "200": {"description": "ready", "content": {"application/json": {"schema": _OBJ}}},
        "503": {"description": "the database or the broker does not answer",
                "content": {"application/json": {"schema": _OBJ}}}} | NOT_MODIFIED}},
    "/metrics": {"get": _media("Prometheus metrics", "text/plain", tags=("ops",), not_found=None)},
    "/probe": {"get": _media(
        "one monitor's last check in the blackbox exporter's format (probe_success, probe_duration_seconds, "
        "probe_ssl_earliest_cert_expiry); never runs a check", "text/plain", [
            _query("monitor", "namespace/name of the monitor", MONITOR_REF) | {"required": True},
            _query("target", "namespace/name; stands in for monitor when that is absent (blackbox-style "
                             "relabelling sends only target)", MONITOR_REF)],
        tags=("ops",), bad_request=True)},
    "/api/v1/openapi.json": {"get": _json("this document", _OBJ, errors=False)},
    "/api/v1/monitors": {"get": _json("monitors with their current state", _list_of("Monitor"), [
        _query("namespace", "only this namespace"),
        _query("selector", "Kubernetes label selector, e.g. team=payments,tier!=low,env in (a,b),!legacy",
               {"type": "string", "pattern": SELECTOR_PATTERN, "maxLength": 4096}),
        _query("state", "UP, DOWN, PENDING or MAINTENANCE (or in lower case)",
               {"type": "string", "enum": [*STATES, *(s.lower() for s in STATES)]}),
        _query("type", "monitor type", {"type": "string", "enum": [t.value for t in MonitorType]})])},
    "/api/v1/monitors/{namespace}/{name}": {"get": _json(
        "one monitor: spec, last 20 heartbeats, uptime 24h/7d/30d/90d, open incident, certificate",
        _ref("MonitorDetail"), [NS, NAME])},
    "/api/v1/monitors/{namespace}/{name}/heartbeats": {"get": _json(
        "heartbeats, newest first", _list_of("Heartbeat", {"next": {"type": ["integer", "null"]}}), [
            NS, NAME, LIMIT, BEFORE, _query("since", "RFC 3339; heartbeats at or after", TIME),
            _query("until", "RFC 3339; heartbeats before", TIME)])},
    "/api/v1/incidents": {"get": _json("incidents, newest first", _list_of("Incident", _NEXT), [
        _query("namespace", "monitors of this namespace"), _query("monitor", "monitor name"),
        _query("open", "true or false", BOOL), *_PAGING])},
    "/api/v1/transitions": {"get": _json("state changes and how the alert path handled each, newest first",
                                         _list_of("Transition", _NEXT), [
        _query("namespace", "monitors of this namespace"), _query("monitor", "monitor name"),
        _query("status", "how the alert path handled it",
               {"type": "string", "enum": list(TRANSITION_STATUSES)}), LIMIT, BEFORE])},
    "/api/v1/deliveries": {"get": _json("notification deliveries (sent, failed, suppressed with a reason)",
                                        _list_of("Delivery", _NEXT), [
        _query("namespace", "monitors of this namespace"), _query("monitor", "monitor name"),
        _query("provider", "NAMESPACE/NAME or NAME of a NotificationProvider"),
        _query("status", "delivery status", {"type": "string", "enum": list(STATUSES)}),
        _query("event", "the event notified", {"type": "string", "enum": list(EVENTS)}), *_PAGING])},
    "/api/v1/uptime/{namespace}/{name}": {"get": _json(
        "uptime and mean latency over a window, from rollups", _ref("Uptime"), [NS, NAME, ANY_WINDOW])},
    "/api/v1/status/{slug}": {"get": _json("a status page's content", _ref("StatusPage"), [SLUG])},
    "/api/v1/resources": {"get": _json("every object of the ten kinds, with status", _list_of("Resource"), [
        _query("kind", "a kind, its plural or short name (404 for any other)"),
        _query("namespace", "only this namespace"), _query("valid", "true or false", BOOL)])},
    "/api/v1/resources/{kind}": {"get": _json("objects of one kind", _list_of("Resource"), [
        _path_param("kind", "Monitor, monitors, StatusPage, ..."), _query("namespace", "only this namespace"),
        _query("valid", "true or false", BOOL)])},
    "/status/{slug}": {"get": _media("a status page (HTML)", falcon.MEDIA_HTML, [SLUG],
                                     not_found=falcon.MEDIA_HTML)},
    "/status/{slug}/feed.atom": {"get": _media("the page's incidents as an Atom feed", "application/atom+xml",
                                               [SLUG], not_found=falcon.MEDIA_HTML)},
    "/badge/{namespace}/{name}/status.svg": _badge("current state"),
    "/badge/{namespace}/{name}/uptime.svg": _badge("uptime", [WINDOW]),
    "/badge/{namespace}/{name}/latency.svg": _badge("mean latency", [WINDOW]),
    "/badge/{namespace}/{name}/cert.svg": _badge("certificate days left"),
    "/api/push/{token}": {"get": _PUSH, "post": _PUSH, "head": _PUSH},
    "/api/push/{token}/{action}": {"get": _PUSH_ACTION, "post": _PUSH_ACTION, "head": _PUSH_ACTION},
}  # fmt: skip


PATHS["/probe"]["get"]["responses"]["400"] = ERRORS["400"]


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "KubeKuma API", "version": __version__,
            "description": "Monitors, uptime, status pages, badges and metrics. Errors are JSON: "
                           '{"error": {"status", "title", "description"}}. Reads carry an ETag; '
                           "send If-None-Match to get 304 Not Modified.",
        },
        "paths": {**PATHS, **dashboard_paths()},
        "components": {"schemas": SCHEMAS},
    }  # fmt: skip


class OpenApi:
    def __init__(self) -> None:
        self.doc = secure(document())

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.doc
