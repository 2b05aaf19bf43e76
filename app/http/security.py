"""Request limits and response headers every route gets, whoever wrote the route.

`SecurityHeaders` stamps a strict Content-Security-Policy (no scripts at all: pages and
badges are static HTML and SVG with inline styles; the dashboard sets its own, allowing
only its own script and forms to its own origin), `nosniff`, `frame-ancestors 'none'`
with its old `X-Frame-Options` twin, and a `Referrer-Policy` that keeps paths (which may
hold push tokens) on our origin. `BodyLimit` answers 413 before a route reads a body that
is larger than any request of ours needs. `redact_path` is what logs may say of a path.
"""

from __future__ import annotations

import re
from typing import Any

import falcon

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# A push body is a status, a message and a latency; 64 KiB is far more than any of them needs.
MAX_BODY_BYTES = 64 * 1024

# waitress: slow and idle clients must not crowd out the rest. Requests are buffered by the event
# loop until complete, so a client that drips its headers costs a socket, never a thread; what
# runs out is `connection_limit` (waitress's default of 100 lets 100 dripping sockets lock everyone
# out). Idle keep-alive sockets are closed after `channel_timeout`, checked every `cleanup_interval`.
SERVER_LIMITS: dict[str, Any] = {
    "connection_limit": 2000,
    "channel_timeout": 30,
    "cleanup_interval": 5,
    "backlog": 2048,
    "asyncore_use_poll": True,  # select() cannot watch descriptors above 1024
    "max_request_header_size": 64 * 1024,
    "max_request_body_size": 1024 * 1024,
}

_TOKEN_PATH = re.compile(r"^(/api/push/)[^/]+")


def redact_path(path: str) -> str:
    """The path as logs may show it: a push token is a credential, so it never reaches a log line."""
    return _TOKEN_PATH.sub(r"\1***", path)


class SecurityHeaders:
    """Stamps HEADERS on every response; a route that set one of them itself keeps its own
    (a status page widens `img-src` by exactly its logo's origin)."""

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        for name, value in HEADERS.items():
            # A route may loosen its own policy (the dashboard runs its own script); others get ours.
            if resp.get_header(name) is None:
                resp.set_header(name, value)


class BodyLimit:
    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        self.limit = limit

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length is not None and req.content_length > self.limit:
            raise falcon.HTTPContentTooLarge(description=f"request bodies are limited to {self.limit} bytes")


def read_body(req: falcon.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, at most `limit` bytes; a longer one (chunked, with no length given) is a 413."""
    data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise falcon.HTTPContentTooLarge(description=f"request bodies are limited to {limit} bytes")
    return data
