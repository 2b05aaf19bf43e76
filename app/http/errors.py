"""Every error is JSON: {"error": {"status", "title", "description"}}, whatever the client accepts."""

from __future__ import annotations

import json
import logging
from typing import Any

import falcon

log = logging.getLogger(__name__)


def serialize_error(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    body: dict[str, Any] = {"status": int(str(exc.status).split()[0]), "title": exc.title}
    if exc.description:
        body["description"] = exc.description
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps({"error": body})


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]
) -> None:
    if isinstance(ex, falcon.HTTPError | falcon.HTTPStatus):
        raise ex
    log.exception("unhandled error on %s %s", req.method, req.path)
    raise falcon.HTTPInternalServerError(description="an internal error occurred; see the server log")


def bad_request(field: str, reason: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title="Invalid parameter", description=f"{field}: {reason}")


def int_param(req: falcon.Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = req.get_param(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(name, f"must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise bad_request(name, f"must be between {lo} and {hi}")
    return value
