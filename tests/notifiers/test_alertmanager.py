"""Alertmanager v2: firing on DOWN, resolved on UP, one fingerprint per monitor and alert kind.

The payload builder is checked as a table; sending is checked against a real Alertmanager
(Debian's prometheus-alertmanager) started on a free port for this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from app.notifiers import Message, NotifierError, notifier, validate_settings
from app.notifiers.alertmanager import AlertmanagerSettings, label_name, payload
from tests.external import binary, free_port, process
from tests.notifiers.conftest import SECRET, context, message, ref

N = notifier("alertmanager")
SETTINGS = AlertmanagerSettings.model_validate({"url": "http://am:9093/", "labels": {"cluster": "prod"}})

PAYLOAD = [
    pytest.param("down", "KubeKumaMonitorDown", "critical", False, id="down-fires"),
    pytest.param("reminder", "KubeKumaMonitorDown", "critical", False, id="reminder-refires-the-same"),
    pytest.param("up", "KubeKumaMonitorDown", "critical", True, id="up-resolves-it"),
    pytest.param("flapping", "KubeKumaMonitorFlapping", "warning", False, id="flapping-own-alert"),
    pytest.param("flappingEnded", "KubeKumaMonitorFlapping", "warning", True, id="settled-resolves-flapping"),
    pytest.param("certificateExpiring", "KubeKumaCertificateExpiring", "warning", False, id="certificate"),
]


@pytest.mark.parametrize(("event", "alertname", "severity", "resolved"), PAYLOAD)
def test_payload(event: str, alertname: str, severity: str, resolved: bool) -> None:
    msg = message(event, labels={"team": "payments", "app.kubernetes.io/name": "shop"})
    [alert] = payload(msg, SETTINGS)
    assert alert["labels"] == {
        "alertname": alertname, "severity": severity, "namespace": "shop", "monitor": "checkout",
        "team": "payments", "app_kubernetes_io_name": "shop", "cluster": "prod",
    }  # fmt: skip
    assert alert["annotations"]["summary"] == msg.title and alert["annotations"]["reason"] == "HTTP 500"
    assert alert["generatorURL"] == "https://shop.example/health"
    ends = msg.time if resolved else msg.time + timedelta(days=1)
    assert alert["endsAt"] == ends.isoformat().replace("+00:00", "Z")


def test_labels_never_change_between_firing_and_resolving() -> None:
    fired = payload(message("down"), SETTINGS)[0]["labels"]
    resolved = payload(message("up", reason="", state="UP"), SETTINGS)[0]["labels"]
    assert fired == resolved


def test_monitor_labels_cannot_take_over_identity() -> None:
    msg = message("down", labels={"alertname": "Other", "monitor": "x", "9lives": "y", "__meta": "z"})
    labels = payload(msg, SETTINGS)[0]["labels"]
    assert labels["alertname"] == "KubeKumaMonitorDown" and labels["monitor"] == "checkout"
    assert labels["_9lives"] == "y" and "__meta" not in labels
    assert label_name("a-b.c/d") == "a_b_c_d"


def test_settings_are_checked() -> None:
    assert validate_settings("alertmanager", {"url": "am:9093"}) == [
        "spec.alertmanager.url: must start with http:// or https://"
    ]


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    am = binary("prometheus-alertmanager", "prometheus-alertmanager")
    folder: Path = tmp_path_factory.mktemp("alertmanager")
    (folder / "alertmanager.yml").write_text("route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [
        am, f"--config.file={folder / 'alertmanager.yml'}", f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
    ]  # fmt: skip
    with process(argv, base + "/-/ready", folder):
        yield base


def live(event: str, **over: Any) -> Message:
    """A message of now: Alertmanager drops alerts whose endsAt has passed."""
    return message(event, time=datetime.now(UTC), **over)


def active(base: str, monitor: str) -> list[dict[str, Any]]:
    r = requests.get(base + "/api/v2/alerts", params={"filter": f'monitor="{monitor}"'}, timeout=5)
    r.raise_for_status()
    return list(r.json())


def test_fire_refire_and_resolve_on_a_real_alertmanager(alertmanager: str) -> None:
    s = AlertmanagerSettings.model_validate({"url": alertmanager, "labels": {"cluster": "test"}})
    ctx = context()
    assert N.probe(s, ctx) is True
    N.send(live("down", monitor="fire-test"), s, ctx)
    [alert] = active(alertmanager, "fire-test")
    assert alert["labels"]["alertname"] == "KubeKumaMonitorDown" and alert["labels"]["cluster"] == "test"
    assert alert["status"]["state"] == "active" and alert["annotations"]["reason"] == "HTTP 500"
    N.send(live("reminder", monitor="fire-test"), s, ctx)
    again = active(alertmanager, "fire-test")
    assert [a["fingerprint"] for a in again] == [alert["fingerprint"]], "one alert, not two"
    N.send(live("up", monitor="fire-test", state="UP"), s, ctx)
    assert active(alertmanager, "fire-test") == [], "resolved"


def test_auth_header_and_unreachable(alertmanager: str) -> None:
    s = AlertmanagerSettings.model_validate({"url": alertmanager, "bearerTokenSecretRef": ref("token")})
    N.send(live("down", monitor="auth-test"), s, context(token=SECRET))  # Alertmanager ignores the header
    assert active(alertmanager, "auth-test")
    from tests.notifiers.conftest import closed_port

    gone = AlertmanagerSettings.model_validate({"url": closed_port()})
    with pytest.raises(NotifierError) as err:
        N.send(message("down"), gone, context())
    assert not err.value.permanent and "cannot connect" in str(err.value)
