"""An app with access switched on as in production: real users and keys, a folder to write to, a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from falcon.testing import Result, TestClient

from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.resources.writer import FolderWriter
from tests.access import add_resource, add_user
from tests.http.conftest import Site

PASSWORD = "correct horse battery staple"
SILENCE_BODY = {"spec": {"matchers": [{"name": "team", "value": "search"}], "endsAt": "2099-01-01T00:00:00Z"}}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Gate:
    site: Site
    app: Any
    client: TestClient  # anonymous; pass headers or cookies per request
    clock: Clock
    folder: Path

    def login(self, username: str, password: str = PASSWORD, **extra: str) -> Result:
        return self.client.simulate_post(
            "/api/v1/auth/login", json={"username": username, "password": password, **extra}
        )

    def session(self, username: str, password: str = PASSWORD, **extra: str) -> dict[str, str]:
        """Log in; the cookies and CSRF header a browser would then send."""
        r = self.login(username, password, **extra)
        assert r.status_code == 200, r.text
        return {"cookie": r.cookies["kk_session"].value, "csrf": r.json["csrfToken"]}

    def as_session(self, s: dict[str, str], method: str, path: str, csrf: bool = True, **kw: Any) -> Result:
        headers = {"X-CSRF-Token": s["csrf"]} if csrf else {}
        return self.client.simulate_request(
            method, path, cookies={"kk_session": s["cookie"]}, headers=headers, **kw
        )

    def settings(self, **auth: Any) -> None:
        read_only = auth.pop("readOnly", False)
        add_resource(
            self.site.store, "KubeKumaSettings", "", "default", {"readOnly": read_only, "auth": auth}
        )


def make_gate(site: Site, tmp_path: Path) -> Gate:
    clock = Clock()
    folder = tmp_path / "manifests"
    # directory_ttl=0: a user, key or setting a test adds counts from the next request on.
    opts = AccessOptions(secrets=site.secrets, clock=clock, writer=FolderWriter(folder), directory_ttl=0)
    app = create_app(site.store, site.catalog, access=opts)
    for name, role in (("vera", "viewer"), ("eddie", "editor"), ("ada", "admin")):
        add_user(site.store, site.secrets, name, PASSWORD, role)
    return Gate(site, app, TestClient(app), clock, folder)


@pytest.fixture
def gate(lite: Site, tmp_path: Path) -> Gate:
    return make_gate(lite, tmp_path)
