"""KUBEKUMA_METRICS_LISTEN: a scaled-out role serves its own counters on a port of its own."""

from __future__ import annotations

import subprocess

import pytest
import requests

from app import roles
from app.config import ConfigError, load_settings
from app.coord import LocalGuard
from app.scheduler import MonitorScheduler
from tests.external import binary


def test_scheduler_role_serves_its_drift(sqlite_url: str) -> None:
    parts = roles.build_parts(load_settings(database_url=sqlite_url, metrics_listen="127.0.0.1:0"))
    parts.scheduler = MonitorScheduler(
        parts.catalog, enqueue=lambda *a: None, guard=LocalGuard(), guard_ttl=lambda t: t
    )
    parts.scheduler.stats.add(0.2)
    port = roles.serve_role_metrics(parts)
    assert port
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'kubekuma_scheduler_drift_seconds_bucket{le="0.25"} 1.0' in text
    assert "kubekuma_scheduler_leading 0.0" in text
    promtool = binary("promtool", "prometheus")
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    parts.store.close()


def test_unset_serves_nothing(sqlite_url: str) -> None:
    parts = roles.build_parts(load_settings(database_url=sqlite_url))
    assert roles.serve_role_metrics(parts) is None
    parts.store.close()


def test_bad_address_is_named() -> None:
    with pytest.raises(ConfigError, match="KUBEKUMA_METRICS_LISTEN"):
        load_settings(metrics_listen="nine-thousand")
