"""References between objects: pure tables, and folder mode turning Valid=False then valid again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.controller.folder import FolderController
from app.controller.references import check_all, missing_references, name_index, object_refs, secret_refs
from app.resources.loader import SecretStore
from app.store import Store

EXISTING = name_index([("NotificationProvider", "ops", "slack"), ("Monitor", "shop", "web")])

CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    (
        "policy-provider-found",
        "NotificationPolicy",
        {"providers": [{"name": "slack", "namespace": "ops"}]},
        [],
    ),
    (
        "policy-provider-missing",
        "NotificationPolicy",
        {"providers": [{"name": "slack"}, {"name": "mail"}]},
        [
            "spec.providers[0]: NotificationProvider shop/slack not found",
            "spec.providers[1]: NotificationProvider shop/mail not found",
        ],
    ),
    ("page-monitor-found", "StatusPage", {"groups": [{"name": "API", "monitors": [{"name": "web"}]}]}, []),
    (
        "page-monitor-missing",
        "StatusPage",
        {"groups": [{"name": "API", "monitors": [{"name": "api"}]}]},
        ["spec.groups[0].monitors[0]: Monitor shop/api not found"],
    ),
    (
        "window-monitor-missing",
        "MaintenanceWindow",
        {"monitors": [{"name": "db", "namespace": "data"}]},
        ["spec.monitors[0]: Monitor data/db not found"],
    ),
    ("selectors-refer-to-nothing", "NotificationPolicy", {"providers": [], "monitorSelector": {}}, []),
    (
        "monitor-secret-missing",
        "Monitor",
        {
            "type": "http",
            "http": {
                "url": "http://x",
                "headers": [
                    {
                        "name": "Authorization",
                        "valueFrom": {"secretKeyRef": {"name": "token", "key": "header"}},
                    }
                ],
            },
        },
        ["spec.http.headers[0].valueFrom.secretKeyRef: Secret shop/token not found"],
    ),
    (
        "monitor-secret-key-missing",
        "Monitor",
        {"type": "http", "http": {"url": "http://x", "bearerTokenSecretRef": {"name": "api", "key": "nope"}}},
        ["spec.http.bearerTokenSecretRef: Secret shop/api has no key nope"],
    ),
    (
        "monitor-secret-found",
        "Monitor",
        {
            "type": "http",
            "http": {"url": "http://x", "bearerTokenSecretRef": {"name": "api", "key": "token"}},
        },
        [],
    ),
    (
        "optional-secret",
        "Monitor",
        {
            "type": "http",
            "http": {"url": "http://x", "bearerTokenSecretRef": {"name": "gone", "optional": True}},
        },
        [],
    ),
    (
        "allowed-env-refs-are-the-workers",
        "LocalUser",
        {"username": "a", "passwordHashSecretRef": {"env": "NOT_SET_X"}},
        [],
    ),
    (
        "env-refs-not-allowed-by-name",
        "LocalUser",
        {"username": "a", "passwordHashSecretRef": {"env": "KUBEKUMA_DATABASE_URL"}},
        [
            "spec.passwordHashSecretRef.env: environment variable KUBEKUMA_DATABASE_URL is not allowed; "
            "the operator lists readable ones in KUBEKUMA_ALLOWED_ENV"
        ],
    ),
    (
        "provider-settings-secret",
        "NotificationProvider",
        {"type": "slack", "slack": {"webhookUrlSecretRef": {"name": "slack-hook", "key": "url"}}},
        ["spec.slack.webhookUrlSecretRef: Secret shop/slack-hook not found"],
    ),
]


@pytest.mark.parametrize(("kind", "spec", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_missing_references(kind: str, spec: dict[str, Any], expected: list[str]) -> None:
    secrets = SecretStore({("shop", "api"): {"token": "s3cret"}}, environ={}, allowed_env={"NOT_SET_X"})

    found = [str(p) for p in missing_references(kind, "shop", spec, EXISTING, secrets)]

    assert found == expected
    assert not any("s3cret" in line for line in found)


def test_object_and_secret_refs_are_listed_with_their_fields() -> None:
    spec = {"groups": [{"name": "a", "monitors": [{"name": "x"}, {"name": "y", "namespace": "z"}]}]}
    assert [(r.kind, r.namespace, r.name, r.field) for r in object_refs("StatusPage", "ns", spec)] == [
        ("Monitor", "ns", "x", "spec.groups[0].monitors[0]"),
        ("Monitor", "z", "y", "spec.groups[0].monitors[1]"),
    ]
    nested = {"a": [{"secretKeyRef": {"name": "s"}}], "bTokenSecretRef": {"name": "t"}}
    assert [p for p, _ in secret_refs(nested)] == ["spec.a[0].secretKeyRef", "spec.bTokenSecretRef"]


def test_check_all_sees_monitors_of_the_same_set_of_objects() -> None:
    objs = [
        ("Monitor", "shop", "web", {"type": "http"}),
        (
            "StatusPage",
            "shop",
            "page",
            {"groups": [{"name": "g", "monitors": [{"name": "web"}, {"name": "db"}]}]},
        ),
    ]
    assert {k: [str(p) for p in v] for k, v in check_all(objs).items()} == {
        ("StatusPage", "shop", "page"): ["spec.groups[0].monitors[1]: Monitor shop/db not found"]
    }


POLICY = """\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {name: oncall, namespace: shop}
spec:
  providers: [{name: slack}]
"""
PROVIDER = """\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {name: slack, namespace: shop}
spec:
  type: webhook
  webhook: {url: "http://127.0.0.1:9/hook", signingSecretRef: {name: hook, key: key}}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: shop}
stringData: {key: not-a-real-one}
"""


def _valid(store: Store, kind: str, name: str) -> tuple[str, str, str]:
    rec = store.resources.get(kind, "shop", name)
    assert rec is not None
    c = next(c for c in rec.status["conditions"] if c["type"] == "Valid")
    return c["status"], c["reason"], c["message"]


def test_folder_mode_marks_missing_references_and_clears_them_when_the_target_appears(
    tmp_path: Path, sqlite_url: str
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY)
    store = Store(sqlite_url)
    ctl = FolderController(folder, store, SecretStore(environ={}))
    try:
        ctl.reconcile(force=True)
        assert _valid(store, "NotificationPolicy", "oncall") == (
            "False",
            "ReferenceNotFound",
            "spec.providers[0]: NotificationProvider shop/slack not found",
        )
        assert any("NotificationProvider shop/slack not found" in line for line in ctl.last_problems)
        rec = store.resources.get("NotificationPolicy", "shop", "oncall")
        assert rec is not None
        ready = next(c for c in rec.status["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "ReferenceNotFound")
        assert "NotificationProvider shop/slack not found" in ready["message"]

        (folder / "provider.yaml").write_text(PROVIDER)
        ctl.reconcile(force=True)
        assert _valid(store, "NotificationPolicy", "oncall") == ("True", "SpecValid", "")
        assert _valid(store, "NotificationProvider", "slack") == (
            "False",
            "ReferenceNotFound",
            "spec.webhook.signingSecretRef: Secret shop/hook not found",
        )

        (folder / "secret.yaml").write_text(SECRET)
        ctl.reconcile(force=True)
        assert _valid(store, "NotificationProvider", "slack") == ("True", "SpecValid", "")
        rec = store.resources.get("NotificationProvider", "shop", "slack")
        assert rec is not None and "not-a-real-one" not in str(rec.status) + str(rec.spec)
    finally:
        store.close()
