"""`kubekuma import uptime-kuma`: a 2.x kuma.db and a 1.x backup become manifests that validate and run."""

from __future__ import annotations

import json
from pathlib import Path

import paho.mqtt.publish as publish
import pytest
import yaml

from app.cli import main
from app.importers import kuma
from app.model import FailureClass

from . import kuma_fixture
from .conftest import run_all, validate

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def imported(tmp_path: Path, web) -> Path:
    db = kuma_fixture.build(tmp_path / "kuma.db", web.port)
    out = tmp_path / "manifests"
    assert main(["import", "uptime-kuma", str(db), "--out", str(out), "--namespace", "shop"]) == 0
    return out


def docs(out: Path, name: str) -> list[dict]:
    return list(yaml.safe_load_all((out / name).read_text()))


def test_database_maps_every_kind(imported: Path) -> None:
    snap = validate(imported)
    kinds = sorted(r.kind for r in snap.resources)
    assert kinds.count("Monitor") == 14 and kinds.count("NotificationProvider") == 4
    assert kinds.count("StatusPage") == 1 and kinds.count("MaintenanceWindow") == 2
    by_name = {d["metadata"]["name"]: d for d in docs(imported, "monitors.yaml")}
    checkout = by_name["checkout-api"]
    assert checkout["metadata"]["labels"] == {
        "env": "prod",
        "team": "payments",
        "critical-path": "true",
        "kuma-group": "shop",
    }
    assert checkout["spec"]["retries"] == 2 and checkout["spec"]["retryInterval"] == "10s"
    assert checkout["spec"]["http"]["basicAuth"]["passwordSecretRef"] == {
        "name": "kuma-checkout-api",
        "key": "basic-auth-password",
    }
    assert by_name["shop"]["spec"]["group"] == {"selector": {"matchLabels": {"kuma-group": "shop"}}}
    assert by_name["orders-db"]["spec"]["postgres"]["passwordSecretRef"]["name"] == "kuma-orders-db"
    assert by_name["health-json"]["spec"]["enabled"] is False
    assert by_name["homepage-keyword"]["spec"]["http"]["acceptedStatusCodes"] == ["200-299", "304"]
    secrets = {d["metadata"]["name"]: d["stringData"] for d in docs(imported, "secrets.yaml")}
    assert secrets["kuma-orders-db"] == {"password": "s3cret"}
    assert secrets["kuma-ops-slack"] == {"webhook-url": "https://hooks.slack.com/services/T0/B0/XyZ"}
    policies = {d["metadata"]["name"]: d["spec"] for d in docs(imported, "notification-policies.yaml")}
    assert policies["ops-slack"]["monitorNames"] == ["checkout-api", "homepage-keyword", "orders-db"]
    assert "monitorNames" not in policies["on-call-mail"], "the default notification covers everything"
    page = docs(imported, "status-pages.yaml")[0]["spec"]
    assert page["customDomains"] == ["status.shop.example"]
    assert [g["name"] for g in page["groups"]] == ["Storefront", "Data"]
    windows = {d["metadata"]["name"]: d["spec"] for d in docs(imported, "maintenance-windows.yaml")}
    assert (
        windows["database-upgrade"]["duration"] == "210m"
        and windows["database-upgrade"]["timezone"] == "Europe/Berlin"
    )
    assert windows["weekly-reindex"]["rrule"] == "FREQ=WEEKLY;BYDAY=MO,WE"


def test_report_lists_what_was_not_carried_over(imported: Path) -> None:
    report = (imported / "IMPORT-REPORT.md").read_text()
    for line in (
        "monitor 'Nginx container' (docker): the whole monitor (KubeKuma has no docker type)",
        "notification 'Signal group' (signal): the whole notification",
        "maintenance 'Cron window' (cron): the whole window",
        "notification 'On-call mail' (smtp): customSubject",
        "monitor 'Checkout API' (http): resendInterval",
        "status page 'shop': footer_text",
    ):
        assert line in report, line


def test_imported_monitors_run(imported: Path) -> None:
    publish.single("kubekuma/test/import", "ready", retain=True, hostname="127.0.0.1", port=1883)
    results = run_all(validate(imported))
    for name in (
        "checkout-api",
        "homepage-keyword",
        "postgres-port",
        "orders-db",
        "cache",
        "legacy-db",
        "broker",
    ):
        assert results[name].ok, (name, results[name].reason)
    for name, result in results.items():
        assert result.failure not in (FailureClass.CONFIG, FailureClass.ERROR), (name, result.reason)


def test_backup_of_1x(tmp_path: Path, web) -> None:
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(kuma_fixture.backup(web.port)))
    bundle = kuma.convert(path, "default")
    bundle.write(tmp_path / "out")
    snap = validate(tmp_path / "out")
    monitors = {r.name: r for r in snap.resources if r.kind == "Monitor"}
    assert set(monitors) == {"public-site", "redis", "heartbeat"}
    site = monitors["public-site"].spec
    assert (
        site.http.keyword.value == "ok"
        and site.http.tls.verify is False
        and site.http.followRedirects is False
    )
    assert monitors["public-site"].labels == {"tier": "web"}
    assert monitors["heartbeat"].spec.enabled is False
    assert any("gamedig" in line for line in bundle.unmapped)
    results = run_all(snap)
    assert results["public-site"].ok and results["redis"].ok, results
