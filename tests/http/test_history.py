"""A year of heartbeats for 50 monitors: status pages, badges and uptime never read raw heartbeats.

The history is generated in SQL (`synthesize_heartbeats`) and rolled up (`rebuild`) the
way retention would have left it. Then `kk_heartbeats` is renamed away: every public read
must still answer, with the same figures, because it only reads rollups.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pony.orm import db_session

from app.catalog import Catalog
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.cache import RenderCache
from app.http.public import PublicOptions
from app.store import Store
from app.uptime import KEEP
from tests.access import MutableSecrets, client_as, grant_key
from tests.http.conftest import Site, seed_folder

MONITORS = 50
PAGE = """\
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {name: fleet, namespace: fleet}
spec:
  slug: fleet
  title: Fleet
  groups: [{name: All, selector: {matchLabels: {public: "true"}}}]
"""
MONITOR = """\
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: m{i:02d}, namespace: fleet, labels: {{public: "true"}}}}
spec: {{type: tcp, interval: 60s, tcp: {{host: host{i}.internal, port: 443}}}}
"""


@pytest.fixture
def fleet(store: Store, tmp_path: Path) -> Iterator[Site]:
    now = datetime.now(UTC).replace(microsecond=0)
    seed_folder(store, tmp_path / "m", PAGE + "".join(MONITOR.format(i=i) for i in range(MONITORS)))
    catalog = Catalog(store)
    secrets = MutableSecrets()
    site = Site(
        store,
        catalog,
        client_as(
            create_app(
                store,
                catalog,
                public=PublicOptions(clock=lambda: now, cache=RenderCache(ttl=0)),
                access=AccessOptions(secrets=secrets),
            ),
            grant_key(store, secrets, "viewer"),
        ),
        RenderCache(ttl=0),
        now,
    )
    site.uids = {m.name: m.uid for m in catalog.monitors()}
    for name in site.uids:  # one real check each: the current state row
        site.check(name, True, now - timedelta(seconds=30))
    t0 = time.monotonic()
    uids = sorted(site.uids.values())
    # One heartbeat an hour for a year, every 20th DOWN (uptime 95 %).
    first = now - timedelta(days=365)
    store.rollups.synthesize_heartbeats(uids, first, 365 * 24, 3600, down_every=20)
    for res in ("m", "h", "d"):
        store.rollups.rebuild(res, max(first, now - KEEP[res]), now - timedelta(minutes=1))
    assert time.monotonic() - t0 < 30, "filling a year for 50 monitors must be quick"
    yield site


def rename_heartbeats(store: Store, to: str, back: str) -> None:
    with db_session:
        store.db.execute(f"ALTER TABLE {back} RENAME TO {to}")


def test_public_reads_never_touch_raw_heartbeats(fleet: Site) -> None:
    store, client = fleet.store, fleet.client
    assert store.checks.count_heartbeats() == MONITORS * (365 * 24 + 1)
    reads = [
        "/status/fleet",
        "/api/v1/status/fleet",
        "/status/fleet/feed.atom",
        "/badge/fleet/m07/status.svg",
        "/badge/fleet/m07/uptime.svg?window=90d",
        "/badge/fleet/m07/latency.svg",
        "/badge/fleet/m07/cert.svg",
        "/api/v1/uptime/fleet/m07?window=365d",
        "/metrics",
    ]
    before = {path: client.simulate_get(path).text for path in reads}
    rename_heartbeats(store, "kk_heartbeats_away", "kk_heartbeats")
    try:
        for path in reads:
            r = client.simulate_get(path)
            assert r.status_code == 200, (path, r.text[:300])
            assert r.text == before[path], f"{path} changed without heartbeats: it must not read them"
        # ...while the raw heartbeat list really is gone (so the rename did bite).
        assert client.simulate_get("/api/v1/monitors/fleet/m07/heartbeats").status_code == 500
    finally:
        rename_heartbeats(store, "kk_heartbeats", "kk_heartbeats_away")

    page = client.simulate_get("/api/v1/status/fleet").json
    monitors = page["groups"][0]["monitors"]
    assert len(monitors) == MONITORS and page["status"]["overall"] == "operational"
    m07 = next(m for m in monitors if m["name"] == "m07")
    assert 0.949 < m07["uptime"]["90d"]["uptime"] < 0.951
    assert all(d["up"] + d["down"] >= 23 for d in m07["days"][:-1]), "every past day has its 24 checks"
    year = client.simulate_get("/api/v1/uptime/fleet/m07", params={"window": "365d"}).json
    assert year["checks"] >= 364 * 24 and 0.949 < year["uptime"] < 0.951
