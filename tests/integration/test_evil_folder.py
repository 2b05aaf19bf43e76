"""`kubekuma run` over hostile manifests: it starts, the good monitors run, the bad are reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import load_settings
from app.roles import Embedded
from tests.access import READER, write_reader
from tests.integration.test_embedded import monitors, wait_for
from tests.resources.evil import write_evil
from tests.targets import http_target

GOOD = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: {name}, namespace: shop}}
spec: {{type: http, interval: 1s, http: {{url: "{url}"}}}}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "manifests"


def start(tmp_path: Path, folder: Path) -> Embedded:
    write_reader(folder)  # the test reads the API with a key, beside the evil manifests
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'kk.db'}",
        manifests=str(folder),
        listen="127.0.0.1:0",
        worker_threads=2,
    )
    sys_ = Embedded(settings)
    sys_.controller.poll_interval = 0.2  # type: ignore[union-attr]
    return sys_.start()


@pytest.fixture
def running(tmp_path: Path, folder: Path) -> Iterator[tuple[Embedded, Path]]:
    folder.mkdir(parents=True)
    sys_ = start(tmp_path, folder)
    try:
        yield sys_, folder
    finally:
        sys_.stop()


@pytest.mark.slow
def test_run_starts_over_evil_manifests_and_runs_the_good_ones(tmp_path: Path, folder: Path) -> None:
    write_evil(folder)
    with http_target() as target:
        (folder / "good.yaml").write_text(GOOD.format(name="good", url=target.url + "/"))
        sys_ = start(tmp_path, folder)
        try:
            wait_for("good UP", lambda: monitors(sys_).get("good", {}).get("state") == "UP")
            assert sys_.parts.store.resources.get("KubeKumaSettings", "", "default") is not None
            reader = sys_.parts.store.resources.get("Monitor", "shop", "env-reader")
            assert reader is not None
            valid = next(c for c in reader.status["conditions"] if c["type"] == "Valid")
            assert valid["status"] == "False" and "KUBEKUMA_ALLOWED_ENV" in valid["message"]
            problems = "\n".join(sys_.controller.last_problems)  # type: ignore[union-attr]
            assert "bomb.yaml" in problems and "unknown kind 'Monitr'" in problems
            assert requests.get(sys_.url, timeout=5, headers=READER).status_code == 200
        finally:
            sys_.stop()


@pytest.mark.slow
def test_evil_manifests_added_while_running_do_not_stop_later_changes(running: tuple[Embedded, Path]) -> None:
    sys_, folder = running
    write_evil(folder)
    with http_target() as target:
        (folder / "later.yaml").write_text(GOOD.format(name="later", url=target.url + "/"))
        wait_for("later UP", lambda: monitors(sys_).get("later", {}).get("state") == "UP")
