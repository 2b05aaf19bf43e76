"""`kubekuma import gatus`: a Gatus configuration becomes manifests that validate and run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.cli import main
from app.importers.gatus import go_duration
from app.model import FailureClass

from .conftest import run_all, validate
from .gatus_fixture import CONFIG

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def imported(tmp_path: Path, web) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(web_port=web.port))
    out = tmp_path / "manifests"
    assert main(["import", "gatus", str(config), "--out", str(out)]) == 0
    return out


def by_name(out: Path, filename: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all((out / filename).read_text())}


def test_endpoints_alerts_and_maintenance(imported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBEKUMA_ALLOWED_ENV", raising=False)
    assert main(["validate", str(imported)]) == 1  # the environment reference is refused until allowed
    monkeypatch.setenv("KUBEKUMA_ALLOWED_ENV", "SLACK_WEBHOOK_URL")
    snap = validate(imported)
    assert sorted({r.kind for r in snap.resources}) == [
        "MaintenanceWindow",
        "Monitor",
        "NotificationPolicy",
        "NotificationProvider",
        "StatusPage",
    ]
    monitors = by_name(imported, "monitors.yaml")
    store = monitors["core-storefront"]["spec"]
    assert store["http"]["acceptedStatusCodes"] == ["200"] and store["http"]["keyword"] == {"value": "ok"}
    assert store["retries"] == 2 and store["timeout"] == "5s" and store["interval"] == "30s"
    health = monitors["core-health-api"]["spec"]["http"]
    assert health["jsonQuery"] == {"path": "$.status", "operator": "==", "expected": "UP"}
    assert health["acceptedStatusCodes"] == ["100-299"] and health["method"] == "POST"
    assert monitors["dns-example-mx"]["spec"]["dns"] == {
        "name": "example.com",
        "recordType": "MX",
        "server": "1.1.1.1",
        "expectedRcode": "NOERROR",
    }
    assert monitors["mail-relay"]["spec"]["smtp"]["warnDays"] == [2]
    assert monitors["shop-certificate"]["spec"]["tls"]["warnDays"] == [10]
    assert monitors["disabled-one"]["spec"]["enabled"] is False
    assert monitors["disabled-one"]["spec"]["http"]["acceptedStatusCodes"] == ["200", "204"]
    backup = monitors["jobs-nightly-backup"]["spec"]
    assert backup["type"] == "push" and backup["interval"] == "25h"
    providers = by_name(imported, "notification-providers.yaml")
    assert providers["gatus-slack"]["spec"]["slack"]["webhookUrlSecretRef"] == {"env": "SLACK_WEBHOOK_URL"}
    assert providers["gatus-email"]["spec"]["smtp"]["to"] == ["oncall@example.com", "ops@example.com"]
    policies = by_name(imported, "notification-policies.yaml")
    assert policies["gatus-slack"]["spec"]["monitorNames"] == ["core-storefront", "jobs-nightly-backup"]
    assert policies["gatus-slack"]["spec"]["triggers"] == ["down", "up"], "default-alert send-on-resolved"
    assert policies["gatus-email"]["spec"]["triggers"] == ["down"]
    window = next(iter(by_name(imported, "maintenance-windows.yaml").values()))["spec"]
    assert window["rrule"] == "FREQ=WEEKLY;BYDAY=MO,TH" and window["duration"] == "1h"
    page = next(iter(by_name(imported, "status-pages.yaml").values()))["spec"]
    assert page["title"] == "Shop health" and [g["name"] for g in page["groups"]][:3] == [
        "Services",
        "core",
        "data",
    ]


def test_report(imported: Path) -> None:
    report = (imported / "IMPORT-REPORT.md").read_text()
    for line in (
        "endpoint 'storefront': condition '[RESPONSE_TIME] < 500' (no counterpart)",
        "endpoint 'health api': condition 'len([BODY].items) > 0'",
        "endpoint 'bastion': the whole endpoint (KubeKuma has no type for ssh URLs",
        "alerting provider jetbrains-space: the whole provider",
        "configuration: storage",
    ):
        assert line in report, line


def test_imported_monitors_run(imported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Gatus's ${SLACK_WEBHOOK_URL} stays an environment reference, which the operator must allow.
    assert "KUBEKUMA_ALLOWED_ENV=SLACK_WEBHOOK_URL" in (imported / "IMPORT-REPORT.md").read_text()
    monkeypatch.setenv("KUBEKUMA_ALLOWED_ENV", "SLACK_WEBHOOK_URL")
    results = run_all(validate(imported), environ={"SLACK_WEBHOOK_URL": "https://hooks.example/x"})
    assert results["core-storefront"].ok, results["core-storefront"].reason
    assert results["data-postgres"].ok, results["data-postgres"].reason
    for name, result in results.items():
        assert result.failure not in (FailureClass.CONFIG, FailureClass.ERROR), (name, result.reason)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1h30m", 5400), ("500ms", 0.5), ("25h", 90000), ("soon", None), ("", None)],
)
def test_go_durations(text: str, seconds: float | None) -> None:
    assert go_duration(text) == seconds
