"""The public face in the embedded default, over real HTTP: a check runs, the page and /metrics show it.

`kubekuma run` shares one metrics registry between web, worker and scheduler, so the
pipeline counters appear next to the monitor figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from app.config import load_settings
from app.http.access.manifests import apikey_manifests
from app.roles import Embedded
from tests.integration.test_embedded import wait_for
from tests.targets import http_target

MANIFESTS = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: web, namespace: shop, labels: {{public: "true"}}}}
spec: {{type: http, interval: 1s, timeout: 2s, http: {{url: "{url}"}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {{name: shop, namespace: shop}}
spec:
  slug: shop
  title: Shop
  groups: [{{name: Web, selector: {{matchLabels: {{public: "true"}}}}}}]
"""


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Embedded, str, str]]:
    with http_target() as target:
        folder = tmp_path / "manifests"
        folder.mkdir()
        (folder / "all.yaml").write_text(MANIFESTS.format(url=target.url))
        # A scraper's key, committed next to the monitors as `kubekuma apikey create` prints it.
        docs, key = apikey_manifests("scraper", "viewer", ["metrics:read"])
        (folder / "scraper.yaml").write_text("".join("---\n" + yaml.safe_dump(d) for d in docs))
        settings = load_settings(manifests=str(folder), listen="127.0.0.1:0", worker_threads=2,
                                 database_url=f"sqlite:///{tmp_path / 'kk.db'}")  # fmt: skip
        system = Embedded(settings).start()
        try:
            yield system, system.url, key
        finally:
            system.stop()


def metric(text: str, sample: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return float("nan")


def test_page_badge_and_metrics_follow_real_checks(running: tuple[Embedded, str, str]) -> None:
    _, url, key = running
    page = wait_for("the page to show web UP", lambda: (
        r.json() if (r := requests.get(url + "api/v1/status/shop", timeout=5)).status_code == 200
        and r.json()["groups"][0]["monitors"][0]["state"] == "UP" else None), timeout=20)  # fmt: skip
    assert page["status"]["overall"] == "operational"
    html = requests.get(url + "status/shop", timeout=5)
    assert html.status_code == 200 and "All systems operational" in html.text
    assert html.headers["Content-Encoding"] == "gzip", "requests asks for gzip; the page comes compressed"
    svg = requests.get(url + "badge/shop/web/status.svg", timeout=5)
    assert svg.headers["Content-Type"] == "image/svg+xml" and "status: up" in svg.text

    def scraped() -> str | None:
        text = requests.get(url + "metrics", timeout=5, headers={"Authorization": f"Bearer {key}"}).text
        return text if metric(text, "kubekuma_checks_run_total") >= 2 else None

    text = wait_for("worker counters in /metrics", scraped, timeout=15)
    assert metric(text, "kubekuma_monitor_up", namespace="shop", name="web") == 1.0
    assert metric(text, "kubekuma_checks_enqueued_total") >= 2
    assert metric(text, "kubekuma_queue_depth", queue="checks") >= 0
    assert metric(text, "kubekuma_scheduler_leading") == 1.0
    assert metric(text, "kubekuma_checks_recorded_total") >= 2
