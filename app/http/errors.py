"""Every error is JSON: {"error": {"status", "title", "description"}}, whatever the client accepts."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import falcon

from app.http.security import redact_path

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
    log.exception("unhandled error on %s %s", req.method, redact_path(req.path))
    raise falcon.HTTPInternalServerError(description="an internal error occurred; see the server log")


def bad_request(field: str, reason: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title="Invalid parameter", description=f"{field}: {reason}")


_DIGITS = re.compile(r"[0-9]{1,19}")


def int_param(req: falcon.Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    """A whole number of ASCII digits (`int()` alone takes "２４", " 7" and "1_0") within [lo, hi]."""
    raw = req.get_param(name)
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw):
        raise bad_request(name, f"must be a whole number, got {raw!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise bad_request(name, f"must be between {lo} and {hi}")
    return value
