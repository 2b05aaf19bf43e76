"""/probe: one monitor's last check in the blackbox exporter's format."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.http.conftest import Site
from tests.http.test_metrics import samples


def test_probe_answers_the_last_check(site: Site) -> None:
    expires = site.now + timedelta(days=20)
    cert = {"expiresAt": expires.isoformat().replace("+00:00", "Z")}
    site.check("checkout-api", True, site.now, latency_ms=42.0, cert=cert)
    site.check("search", False, site.now, latency_ms=None)
    up = site.client.simulate_get("/probe", params={"monitor": "shop/checkout-api"})
    assert up.status_code == 200 and up.headers["content-type"].startswith("text/plain")
    m = samples(up.text)
    assert m[("probe_success", ())] == 1.0
    assert m[("probe_duration_seconds", ())] == 0.042
    assert m[("probe_ssl_earliest_cert_expiry", ())] == expires.timestamp()
    info = (("name", "checkout-api"), ("namespace", "shop"), ("state", "UP"), ("type", "http"))
    assert m[("probe_kubekuma_monitor_info", info)] == 1.0
    assert m[("probe_kubekuma_last_check_timestamp_seconds", ())] == site.now.timestamp()
    down = samples(site.client.simulate_get("/probe", params={"target": "shop/search"}).text)
    assert down[("probe_success", ())] == 0.0
    assert down[("probe_kubekuma_failure", (("class", "refused"),))] == 1.0


def test_never_checked_is_not_a_success(site: Site) -> None:
    m = samples(site.client.simulate_get("/probe", params={"monitor": "shop/internal-db"}).text)
    assert m[("probe_success", ())] == 0.0
    assert ("probe_kubekuma_last_check_timestamp_seconds", ()) not in m


@pytest.mark.parametrize(
    ("params", "status", "piece"),
    [
        pytest.param({}, 400, "monitor=namespace/name", id="missing"),
        pytest.param({"monitor": "checkout-api"}, 400, "is not namespace/name", id="no-namespace"),
        pytest.param({"monitor": "shop/nope"}, 404, "no monitor shop/nope", id="unknown"),
    ],
)
def test_bad_requests(lite: Site, params: dict[str, str], status: int, piece: str) -> None:
    r = lite.client.simulate_get("/probe", params=params)
    assert r.status_code == status and piece in r.text
