"""The command line as a user meets it: --help, validate, and configuration errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_examples_validate_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "examples")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("valid:") and "Monitor" in err and "0 problem(s)" in err


def test_validate_prints_file_kind_name_field_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.yaml").write_text(
        "apiVersion: kubekuma.io/v1alpha1\nkind: Monitor\nmetadata: {name: api, namespace: shop}\n"
        "spec: {type: http, interval: 5 minutes, http: {url: 'ftp://x'}}\n"
        "---\n"
        "apiVersion: kubekuma.io/v1alpha1\nkind: Monitr\nmetadata: {name: typo}\n"
    )
    (tmp_path / "broken.yml").write_text("kind: [unclosed\n")
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        "sub/bad.yaml#0: Monitor shop/api: spec.interval: '5 minutes' is not a duration; "
        "use a number with ms, s, m, h, d or w, e.g. 30s" in out
    )
    assert (
        "sub/bad.yaml#0: Monitor shop/api: spec.http.url: must be an absolute http or https URL with a host"
        in out
    )
    assert any(line.startswith("sub/bad.yaml#1: Monitr ") and "unknown kind 'Monitr'" in line for line in out)
    assert any(line.startswith("broken.yml: ") and "not valid YAML" in line for line in out)


BROKEN_REFERENCES = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: web, namespace: shop}
spec: {type: http, http: {url: "http://127.0.0.1:9/"}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {name: oncall, namespace: shop}
spec:
  providers: [{name: slack}]
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {name: hook, namespace: shop}
spec:
  type: webhook
  webhook: {url: "http://127.0.0.1:9/hook", signingSecretRef: {name: hook, key: key}}
---
apiVersion: v1
kind: Secret
metadata: {name: pager, namespace: shop}
stringData: {other: x}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {name: pager, namespace: shop}
spec:
  type: pagerduty
  pagerduty: {routingKeySecretRef: {name: pager, key: routing-key}}
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {name: public, namespace: shop}
spec:
  slug: shop
  title: Shop
  groups: [{name: Services, monitors: [{name: web}, {name: db}]}]
"""


def test_validate_checks_every_reference_the_controller_checks(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: validate passed this folder while the running controller reported four problems.
    (tmp_path / "shop.yaml").write_text(BROKEN_REFERENCES)
    assert main(["validate", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert sorted(out) == sorted([
        "shop.yaml#1: NotificationPolicy shop/oncall: spec.providers[0]: "
        "NotificationProvider shop/slack not found",
        "shop.yaml#2: NotificationProvider shop/hook: spec.webhook.signingSecretRef: "
        "Secret shop/hook not found",
        "shop.yaml#4: NotificationProvider shop/pager: spec.pagerduty.routingKeySecretRef: "
        "Secret shop/pager has no key routing-key",
        "shop.yaml#5: StatusPage shop/public: spec.groups[0].monitors[1]: Monitor shop/db not found",
    ])  # fmt: skip
    assert captured.err.startswith("invalid:") and "4 problem(s)" in captured.err

    # The running folder controller reports exactly these, with the same code.
    from app.controller.folder import FolderController
    from app.resources.loader import SecretStore
    from app.store import Store

    store = Store(sqlite_url)
    try:
        ctl = FolderController(tmp_path, store, SecretStore(environ={}), namespace="default")
        ctl.reconcile(force=True)
        assert sorted(ctl.last_problems) == sorted(out)
    finally:
        store.close()


def test_validate_warns_of_literal_credentials_and_refuses_alias_bombs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.yaml").write_text(
        "apiVersion: kubekuma.io/v1alpha1\nkind: Monitor\nmetadata: {name: api, namespace: shop}\n"
        "spec: {type: http, http: {url: 'https://bob:hunter2@api.example/'}}\n"
    )
    assert main(["validate", str(tmp_path)]) == 0  # a warning, not a problem
    out = capsys.readouterr().out
    assert "m.yaml: Monitor shop/api: warning: spec.http.url: a URL with user information" in out
    assert "hunter2" not in out
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    (tmp_path / "bomb.yaml").write_text(bomb)
    assert main(["validate", str(tmp_path)]) == 1
    assert "bomb.yaml: ? ?: a document expands to more than 200000 YAML nodes" in capsys.readouterr().out


def test_validate_missing_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "/nonexistent/kk"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_config_error_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBEKUMA_DATABASE_URL", "mysql://nope")
    monkeypatch.setenv("KUBEKUMA_LISTEN", "8080")
    assert main(["web"]) == 2
    assert capsys.readouterr().err == (
        "kubekuma: configuration error: KUBEKUMA_DATABASE_URL: must start with sqlite:// or postgresql://; "
        "KUBEKUMA_LISTEN: must be HOST:PORT, e.g. 127.0.0.1:8080\n"
    )


@pytest.mark.parametrize(
    "command", ["run", "web", "worker", "scheduler", "controller", "validate", "user create", "apikey create"]
)
def test_help_for_every_command(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", *command.split(), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert out.startswith("usage: kubekuma " + command)


def test_run_prints_the_dashboard_url(tmp_path: Path) -> None:
    """`kubekuma run` as `make run` starts it: on SQLite, the in-memory broker and examples/."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "run",
            "--manifests",
            str(ROOT / "examples"),
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            f"sqlite:///{tmp_path / 'kk.db'}",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("KubeKuma ") and "Dashboard: http://127.0.0.1:" in line
        import requests

        url = line.split("Dashboard: ")[1].strip()
        assert requests.get(url + "healthz", timeout=5).json() == {"status": "ok"}
        assert requests.get(url + "api/v1/monitors", timeout=5).status_code == 401, "never open to anonymous"
        proc.stdout.readline()  # database, broker, manifests
        hint = proc.stdout.readline()
        assert (
            f"log in at {url}login as admin; the password is in {tmp_path / 'kubekuma-initial-admin'}" in hint
        )
        secret_file = tmp_path / "kubekuma-initial-admin"
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
        password = secret_file.read_text().split("password: ")[1].strip()
        session = requests.Session()
        r = session.post(
            url + "api/v1/auth/login", json={"username": "admin", "password": password}, timeout=10
        )
        assert r.status_code == 200, r.text
        body = session.get(url + "api/v1/monitors", timeout=5).json()
        assert {"kubekuma-web", "legacy-billing", "edge-web"} <= {m["name"] for m in body["items"]}
    finally:
        proc.terminate()
        assert proc.wait(15) == 0


def test_user_create_prints_a_local_user_with_an_argon2id_hash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import io

    import yaml
    from argon2 import PasswordHasher

    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["user", "create", "alice", "--role", "editor", "--password-stdin"]) == 0
    user, secret = yaml.safe_load_all(capsys.readouterr().out)
    assert user["kind"] == "LocalUser" and user["spec"]["role"] == "editor"
    assert user["spec"]["passwordHashSecretRef"] == {"name": "alice-password", "key": "hash"}
    stored = base64.b64decode(secret["data"]["hash"]).decode()
    assert stored.startswith("$argon2id$") and PasswordHasher().verify(stored, "a long enough password")


def test_apikey_create_prints_the_hash_and_the_key_once(capsys: pytest.CaptureFixture[str]) -> None:
    import base64
    import hashlib

    import yaml

    assert main(["apikey", "create", "ci", "--role", "editor", "--scope", "silences:write",
                 "--expires", "2030-01-01T00:00:00Z"]) == 0  # fmt: skip
    out = capsys.readouterr()
    key = out.err.split("stored nowhere): ")[1].strip()
    assert key not in out.out
    apikey, secret = yaml.safe_load_all(out.out)
    assert (
        apikey["spec"]
        == {
            "role": "editor",
            "scopes": ["silences:write"],
            "expiresAt": "2030-01-01T00:00:00Z",
            "keyHashSecretRef": {"name": "ci-apikey", "key": "hash"},
        }
        | apikey["spec"]
    )
    assert (
        base64.b64decode(secret["data"]["hash"]).decode()
        == "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    )
