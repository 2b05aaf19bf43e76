"""The dashboard's routes in the OpenAPI document: each page module documents its own.

A page module sets `OPENAPI = {"/its/route": {"get": page("what it shows", [...])}}`;
`paths()` gathers them from every module `register` loads, so the document and the router
agree (tests/http/test_openapi.py walks both). Pages answer HTML; bad parameters are the
usual JSON error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Schema = dict[str, Any]
TAGS = ["dashboard"]
_ERROR = {"$ref": "#/components/schemas/Error"}


def query(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


def path(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


def error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def page(summary: str, params: Sequence[Schema] = (), bad_request: bool = False, not_found: bool = False,
         html_400: bool = False) -> Schema:  # fmt: skip
    """A dashboard page: HTML, 400 for a bad parameter, 404 when what it shows does not exist.

    `html_400`: the page itself answers some bad input (a label selector it shows an error for).
    """
    html = {"text/html": {"schema": {"type": "string"}}}
    responses: Schema = {"200": {"description": summary, "content": html}}
    if bad_request:
        responses["400"] = error("invalid parameter")
        if html_400:
            responses["400"]["content"].update(html)
    if not_found:
        responses["404"] = error("not found")
    return {"summary": summary, "tags": TAGS, "parameters": list(params), "responses": responses}


def json(summary: str) -> Schema:
    return {"summary": summary, "tags": TAGS, "parameters": [],
            "responses": {"200": {"description": summary, "content": {"application/json": {"schema": {
                "type": "object"}}}}}}  # fmt: skip


def paths() -> dict[str, Schema]:
    """Every dashboard route's operations, from the modules that register them."""
    from app.http.dashboard import _pages, assets

    out: dict[str, Schema] = {}
    for module in [assets, *_pages()]:
        out.update(getattr(module, "OPENAPI", {}))
    return out
