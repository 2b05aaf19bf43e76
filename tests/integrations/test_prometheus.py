"""/metrics as Prometheus itself takes it: `promtool check metrics`, and a real server scraping it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry

from app.catalog import Catalog
from app.checkers.timing import HTTP_PHASES
from app.coord import LocalGuard
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.metrics import PipelineSources, WorkerMetrics
from app.http.public import PublicOptions
from app.scheduler import MonitorScheduler
from tests.access import client_as, grant_key
from tests.external import binary, free_port, process, serve_wsgi, wait_until
from tests.http.conftest import Site

pytestmark = pytest.mark.timeout(90)


def full_metrics(site: Site) -> str:
    """/metrics with every family present: monitor states, a scheduler with drift samples, queues."""
    sched = MonitorScheduler(site.catalog, enqueue=lambda *a: None, guard=LocalGuard(), guard_ttl=lambda t: t)
    for lateness in (0.002, 0.03, 0.7, 3.0):
        sched.stats.add(lateness)
    pipeline = PipelineSources(queue_depths=lambda: {"checks": 2}, scheduler=lambda: sched)

    registry = CollectorRegistry()
    WorkerMetrics(registry)  # worker counters and the HTTP phase histogram
    HTTP_PHASES.observe({"dnsMs": 1.0, "connectMs": 0.4, "tlsMs": 3.0, "firstByteMs": 12.0, "totalMs": 20.0})
    app = create_app(site.store, site.catalog, public=PublicOptions(registry=registry, pipeline=pipeline),
                     access=AccessOptions(secrets=site.secrets))  # fmt: skip
    key = grant_key(site.store, site.secrets, "viewer", "scraper", scopes=["metrics:read"])
    site.check("checkout-api", True, site.now, cert={"expiresAt": "2030-01-01T00:00:00Z"})
    site.check("search", False, site.now)
    return client_as(app, key).simulate_get("/metrics").text


def test_promtool_accepts_metrics(lite: Site, tmp_path: Path) -> None:
    promtool = binary("promtool", "prometheus")
    text = full_metrics(lite)
    assert "kubekuma_scheduler_drift_seconds_bucket" in text
    assert 'kubekuma_http_phase_seconds_bucket{le="0.005",phase="tls"}' in text
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_accepts_probe(lite: Site) -> None:
    promtool = binary("promtool", "prometheus")
    lite.check("checkout-api", True, lite.now, cert={"expiresAt": "2030-01-01T00:00:00Z"})
    text = lite.client.simulate_get("/probe", params={"monitor": "shop/checkout-api"}).text
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_scrapes_monitor_states(lite: Site, tmp_path: Path) -> None:
    prometheus = binary("prometheus", "prometheus")
    lite.check("checkout-api", True, lite.now)
    lite.check("search", False, lite.now)
    app = create_app(lite.store, Catalog(lite.store), public=PublicOptions(),
                     access=AccessOptions(secrets=lite.secrets))  # fmt: skip
    # Prometheus scrapes with a read-only key, as docs/access.md tells operators to.
    key = grant_key(
        lite.store, lite.secrets, "viewer", "prometheus", scopes=["metrics:read", "dashboard:read"]
    )
    auth = f"    authorization: {{type: Bearer, credentials: '{key}'}}\n"
    with serve_wsgi(app) as base:
        target = base.removeprefix("http://")
        (tmp_path / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: kubekuma\n    static_configs: [{{targets: ['{target}']}}]\n{auth}"
            # The blackbox exporter's usual relabelling, pointed at /probe.
            f"  - job_name: kubekuma-probe\n    metrics_path: /probe\n{auth}"
            "    static_configs: [{targets: ['shop/checkout-api', 'shop/search']}]\n"
            "    relabel_configs:\n"
            "      - {source_labels: [__address__], target_label: __param_target}\n"
            "      - {source_labels: [__param_target], target_label: instance}\n"
            f"      - {{target_label: __address__, replacement: '{target}'}}\n"
        )
        port = free_port()
        argv = [
            prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
        ]  # fmt: skip
        api = f"http://127.0.0.1:{port}/api/v1/query"
        with process(argv, f"http://127.0.0.1:{port}/-/ready", tmp_path):
            got: dict[str, str] = {}

            def scraped() -> bool:
                r = requests.get(api, params={"query": 'kubekuma_monitor_state{namespace="shop"} == 1'})
                got.clear()
                for s in r.json()["data"]["result"]:
                    got[s["metric"]["name"]] = s["metric"]["state"]
                return {"checkout-api", "search"} <= got.keys()

            wait_until(scraped, 30, "Prometheus scraped the monitor states")
            assert got["checkout-api"] == "UP" and got["search"] == "DOWN"
            r = requests.get(api, params={"query": 'up{job="kubekuma"}'}).json()
            assert r["data"]["result"][0]["value"][1] == "1"
            probes: dict[str, str] = {}

            def probed() -> bool:
                r = requests.get(api, params={"query": 'probe_success{job="kubekuma-probe"}'}).json()
                probes.update({x["metric"]["instance"]: x["value"][1] for x in r["data"]["result"]})
                return len(probes) == 2

            wait_until(probed, 30, "Prometheus probed both monitors through /probe")
            assert probes == {"shop/checkout-api": "1", "shop/search": "0"}
