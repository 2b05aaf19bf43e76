"""The OpenAPI document matches the code: every route is described, and every description has a route."""

from __future__ import annotations

from typing import Any

import falcon
from falcon.testing import TestClient

from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.push import PushEndpoint
from tests.http.conftest import Site

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def routes(app: falcon.App) -> set[tuple[str, str]]:
    """(uri template, method) for every responder the code defines (not Falcon's defaults)."""
    out: set[tuple[str, str]] = set()

    def walk(nodes: list[Any]) -> None:
        for node in nodes:
            if node.resource is not None:
                for method, responder in node.method_map.items():
                    if method in METHODS and getattr(responder, "__self__", None) is node.resource:
                        out.add((node.uri_template, method.lower()))
            walk(node.children)

    walk(app._router._roots)
    return out


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def full_app(site: Site) -> falcon.App:
    """The app as `kubekuma web` builds it: with the push endpoint too."""
    push = PushEndpoint(
        site.store,
        site.catalog,
        None,
        on_transition=lambda tid: None,
        clock=lambda: site.now,
        in_maintenance=lambda entry, now: False,
    )
    return create_app(site.store, site.catalog, push=push, access=AccessOptions(secrets=site.secrets))


def test_every_route_is_documented_and_every_documented_route_exists(lite: Site) -> None:
    app = full_app(lite)
    doc = TestClient(app).simulate_get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    in_code, in_doc = routes(app), documented(doc)
    assert in_code - in_doc == set(), "routes missing from the OpenAPI document"
    assert in_doc - in_code == set(), "documented operations without a route"
    assert len(in_code) >= 20


def test_every_reference_resolves_and_path_parameters_match_the_template(lite: Site) -> None:
    doc = TestClient(full_app(lite)).simulate_get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for path, ops in doc["paths"].items():
        template_params = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
        for op in ops.values():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == template_params, path
            assert {"200", "201", "204", "302", "303"} & op["responses"].keys(), path
