"""First start: an admin login from a 0600 file, until a LocalUser exists."""

from __future__ import annotations

from pathlib import Path

from falcon.testing import TestClient

from app.http.access import initial
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from tests.access import add_user
from tests.http.conftest import Site


def test_the_initial_admin_file_is_private_and_kept(tmp_path: Path) -> None:
    path = initial.default_file(f"sqlite:///{tmp_path / 'kk.db'}", None)
    assert path == tmp_path / "kubekuma-initial-admin"
    password, created = initial.file_password(path)
    assert created and oct(path.stat().st_mode & 0o777) == "0o600"
    assert initial.file_password(path) == (password, False), "a restart keeps the password"
    assert len(password) >= 20


def test_the_initial_admin_logs_in_until_a_local_user_exists(lite: Site, tmp_path: Path) -> None:
    password, _ = initial.file_password(tmp_path / "kubekuma-initial-admin")
    opts = AccessOptions(secrets=lite.secrets, initial_admin=initial.admin_user(password), directory_ttl=0)
    client = TestClient(create_app(lite.store, lite.catalog, access=opts))
    assert "initial admin" in client.simulate_get("/login").text
    r = client.simulate_post("/api/v1/auth/login", json={"username": "admin", "password": password})
    assert r.status_code == 200 and r.json["role"] == "admin"
    cookie = {"kk_session": r.cookies["kk_session"].value}
    assert client.simulate_get("/api/v1/audit", cookies=cookie).status_code == 200
    add_user(lite.store, lite.secrets, "ops", "a long enough password", "admin")
    assert client.simulate_get("/api/v1/audit", cookies=cookie).status_code == 401, "its session ends"
    r = client.simulate_post("/api/v1/auth/login", json={"username": "admin", "password": password})
    assert r.status_code == 401


def test_a_form_login_redirects_to_the_dashboard(lite: Site, tmp_path: Path) -> None:
    add_user(lite.store, lite.secrets, "ops", "a long enough password", "viewer")
    client = TestClient(create_app(lite.store, lite.catalog, access=AccessOptions(secrets=lite.secrets)))
    r = client.simulate_post("/api/v1/auth/login", body="username=ops&password=a+long+enough+password",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.simulate_get("/", cookies={"kk_session": r.cookies["kk_session"].value}).status_code == 200
