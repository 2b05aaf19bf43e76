"""The API against its own OpenAPI document: schemathesis generates requests, every check must pass.

Positive and negative data for every operation, against the real app on a real waitress on a
loopback port, over a seeded store (push included), with bounded example counts so the run takes
about a minute.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
import schemathesis
import waitress
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode

from app.catalog import Catalog
from app.http.app import create_app
from app.http.cache import RenderCache
from app.http.public import PublicOptions
from app.http.push import PushEndpoint, TokenBucket
from app.http.security import SERVER_LIMITS
from app.resources.loader import SecretStore
from app.store import Store
from tests.http.conftest import make_site, seed_folder

PUSH_TOKEN = "push-token-for-schemathesis"
PUSH = f"""
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: job, namespace: shop}}
spec: {{type: push, interval: 1h, push: {{tokenSecretRef: {{name: job, key: token}}}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: job, namespace: shop}}
stringData: {{token: {PUSH_TOKEN}}}
"""

pytestmark = pytest.mark.slow


def build_app(tmp: Path) -> object:
    store = Store(f"sqlite:///{tmp / 'kk.db'}")
    site = make_site(store, tmp)
    text = (tmp / "manifests" / "all.yaml").read_text() + PUSH
    seed_folder(store, tmp / "manifests", text)
    now = site.now
    push = PushEndpoint(
        store,
        Catalog(store),
        SecretStore({("shop", "job"): {"token": PUSH_TOKEN}}, environ={}),
        on_transition=lambda tid: None,
        clock=lambda: now,
        in_maintenance=lambda entry, at: False,
        limiter=TokenBucket(rate=1e6, burst=1e6),
    )
    public = PublicOptions(clock=lambda: now, cache=RenderCache(0))
    return create_app(store, Catalog(store), push=push, public=public)


def serve(app: object) -> str:
    """A real waitress on a free loopback port, with the production limits: what clients meet."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4, **SERVER_LIMITS)
    threading.Thread(target=server.run, name="schemathesis-web", daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}"


_tmp = Path(tempfile.mkdtemp(prefix="kk-schemathesis-"))
BASE = serve(build_app(_tmp))
schema = schemathesis.openapi.from_url(f"{BASE}/api/v1/openapi.json")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# Path parameters name things that exist, so requests get past the 404 and reach the parsers.
schema.config.update(
    parameters={
        "path.namespace": "shop",
        "path.name": "search",
        "path.slug": "shop",
        "path.kind": "monitors",
        "path.token": PUSH_TOKEN,
    }
)


@schema.parametrize()
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate()
