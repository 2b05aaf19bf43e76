"""A real app over a real store (SQLite and PostgreSQL), seeded through the real repositories.

Manifests go through the folder loader and `store.resources.sync`; checks go through
`store.checks.record` with the real state machine; incidents through `store.incidents`.
The public face's clock is pinned to `now`, so day bars and windows are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from falcon.testing import TestClient

from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog
from app.controller.folder import records_from
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.cache import RenderCache
from app.http.public import PublicOptions
from app.model import CheckResult, FailureClass, MonitorSnapshot
from app.resources.loader import load_folder
from app.store import Store
from tests.access import MutableSecrets, client_as, grant_key

MANIFESTS = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: checkout-api, namespace: shop, labels: {{team: payments, tier: critical, public: "true"}}}}
spec: {{type: http, description: Checkout, interval: 60s, http: {{url: "https://checkout.internal/healthz"}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: search, namespace: shop, labels: {{team: search, tier: low, public: "true"}}}}
spec: {{type: tcp, interval: 30s, tcp: {{host: search.internal, port: 9200}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: internal-db, namespace: shop, labels: {{team: payments, tier: critical}}}}
spec: {{type: tcp, interval: 30s, tcp: {{host: db.internal, port: 5432}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: billing, namespace: ops, labels: {{team: payments, public: "true"}}}}
spec: {{type: http, interval: 60s, http: {{url: "https://billing.internal/"}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {{name: shop, namespace: shop}}
spec:
  slug: shop
  title: Shop status
  description: Checkout and search for the shop
  groups:
    - {{name: Checkout, monitors: [{{name: checkout-api}}, {{name: billing, namespace: ops}}]}}
    - {{name: Everything public, selector: {{matchLabels: {{public: "true"}}}}}}
  customDomains: [status.shop.example]
---
apiVersion: kubekuma.io/v1alpha1
kind: MaintenanceWindow
metadata: {{name: search-reindex, namespace: shop}}
spec:
  title: Search reindex
  description: Results may be stale
  monitorSelector: {{matchLabels: {{team: search}}}}
  start: "{active_start}"
  duration: 2h
---
apiVersion: kubekuma.io/v1alpha1
kind: MaintenanceWindow
metadata: {{name: db-upgrade, namespace: shop}}
spec:
  title: Checkout database upgrade
  monitors: [{{name: checkout-api}}]
  start: "{upcoming_start}"
  timezone: Europe/Berlin
  duration: 30m
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: oncall, namespace: shop}}
spec:
  type: slack
  slack: {{webhookUrlSecretRef: {{name: slack, key: url}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: slack, namespace: shop}}
stringData: {{url: "https://hooks.example/SECRET-VALUE-never-shown"}}
"""


@dataclass
class Site:
    store: Store
    catalog: Catalog
    client: TestClient
    cache: RenderCache
    now: datetime
    uids: dict[str, str] = field(default_factory=dict)
    app: Any = None
    secrets: MutableSecrets = field(default_factory=MutableSecrets)
    anonymous: TestClient | None = None  # the same app, without credentials

    def check(
        self, name: str, ok: bool, at: datetime, latency_ms: float | None = 20.0,
        reason: str = "connection refused to 10.0.0.7:5432", failure: FailureClass = FailureClass.REFUSED,
        **details: object,
    ) -> str:  # fmt: skip
        """Record one check of `name` at `at` through the real state machine; returns the new state.
        Checks of a monitor must come in time order, as they do in life (incidents follow them)."""
        result = (
            CheckResult.up(latency_ms, **details) if ok else CheckResult.down(failure, reason, latency_ms)
        )

        def decide(prev: MonitorSnapshot | None):  # type: ignore[no-untyped-def]
            return next_state(prev, result, RetryPolicy(), False, at)

        return str(self.store.checks.record(self.uids[name], result, decide, at).decision.snapshot.state)


def seed_folder(store: Store, folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all.yaml").write_text(text)
    records, _ = records_from(load_folder(folder, "default"))
    store.resources.sync(records)


def make_site(store: Store, tmp_path: Path) -> Site:
    now = datetime.now(UTC).replace(microsecond=0)
    text = MANIFESTS.format(
        active_start=(now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        upcoming_start=(now + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    seed_folder(store, tmp_path / "manifests", text)
    catalog = Catalog(store)
    cache = RenderCache(ttl=0)  # every request builds, so tests see fresh data
    secrets = MutableSecrets()
    app = create_app(
        store,
        catalog,
        public=PublicOptions(clock=lambda: now, cache=cache),
        access=AccessOptions(secrets=secrets),
    )
    # Tests not about access read and write as an admin with a real API key.
    key = grant_key(store, secrets, "admin")
    s = Site(
        store, catalog, client_as(app, key), cache, now, app=app, secrets=secrets, anonymous=TestClient(app)
    )
    s.uids = {m.name: m.uid for m in catalog.monitors()}
    return s


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Site:
    """The seeded site on SQLite and on PostgreSQL (runs the test twice)."""
    return make_site(store, tmp_path)


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    """The seeded site on SQLite only: for long tables of cases about the HTTP layer, whose
    database reads the `site` tests already run on both databases."""
    store = Store(sqlite_url)
    yield make_site(store, tmp_path)
    store.close()
