"""Conditional GETs: an ETag on every successful read, and 304 Not Modified when the client has it.

Dashboards and scripts poll the same reads every few seconds; a 304 saves the body on
the wire and the client's parsing. Cached renders (status pages, badges) bring their ETag
with them; any other read gets one from a hash of its body.
"""

from __future__ import annotations

from typing import Any

import falcon

from app.http.cache import etag_of


class ConditionalGet:
    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        if req.method not in ("GET", "HEAD") or not ok or resp.status_code != 200 or resp.stream is not None:
            return
        if req.path.startswith("/api/push/"):  # a push is a write that happens to be a GET
            return
        if resp.etag is None:
            body = resp.render_body()
            if body is None:
                return
            resp.etag = etag_of(body)
        tag = resp.etag.strip('"')
        wanted = req.if_none_match
        # Weak comparison, as RFC 9110 asks for If-None-Match.
        if wanted and any(t == "*" or str(t) == tag for t in wanted):
            resp.status = falcon.HTTP_304
            resp.text = None
            resp.data = None
            resp.media = None
            resp.delete_header("Content-Type")  # a 304 has no content, so no content type either
