"""Folder mode: reading a directory of manifests, its Secrets, and noticing when it changes."""

from __future__ import annotations

import base64
import os
import textwrap
from pathlib import Path

import pytest

from app.resources.common import SecretKeyRef
from app.resources.loader import SecretError, SecretStore, folder_fingerprint, load_folder

SECRET_VALUE = "s3cr3t-hunter2"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def push_monitor(name: str, namespace: str | None = None) -> str:
    ns = f", namespace: {namespace}" if namespace else ""
    return (
        "apiVersion: kubekuma.io/v1alpha1\n"
        "kind: Monitor\n"
        f"metadata: {{name: {name}{ns}}}\n"
        "spec: {type: push}\n"
    )


def names(root: Path) -> list[str]:
    return sorted(f"{r.kind}/{r.namespace}/{r.name}" for r in load_folder(root).resources)


def problem_lines(root: Path) -> list[str]:
    return [line for p in load_folder(root).problems for line in p.lines()]


def test_reads_yaml_and_yml_files_in_every_subfolder(tmp_path: Path) -> None:
    write(tmp_path, "top.yaml", push_monitor("top"))
    write(tmp_path, "team/a/deep.yml", push_monitor("deep"))
    write(tmp_path, "team/notes.txt", push_monitor("ignored-txt"))
    write(tmp_path, "team/.hidden.yaml", push_monitor("ignored-hidden"))
    write(tmp_path, "team/README.md", "# not a manifest")

    snap = load_folder(tmp_path)

    assert names(tmp_path) == ["Monitor/default/deep", "Monitor/default/top"]
    assert snap.problems == []
    assert {r.name: r.source for r in snap.resources} == {"top": "top.yaml", "deep": "team/a/deep.yml"}


def test_a_single_file_can_be_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, "only.yaml", push_monitor("only"))

    snap = load_folder(path)

    assert [(r.name, r.source) for r in snap.resources] == [("only", "only.yaml")]


def test_many_documents_per_file_and_empty_documents_skipped(tmp_path: Path) -> None:
    text = "---\n" + push_monitor("one") + "---\n# only a comment here\n---\n" + push_monitor("two") + "---\n"
    (tmp_path / "all.yaml").write_text(text)

    snap = load_folder(tmp_path)

    assert snap.problems == []
    assert [r.name for r in snap.resources] == ["one", "two"]
    # the source names the document's position in the file, empty ones counted
    assert [r.source for r in snap.resources] == ["all.yaml#0", "all.yaml#2"]


def test_default_namespace_applies_to_manifests_without_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", push_monitor("plain"))
    write(tmp_path, "b.yaml", push_monitor("pinned", namespace="prod"))

    snap = load_folder(tmp_path, default_namespace="monitoring")

    assert sorted((r.namespace, r.name) for r in snap.resources) == [
        ("monitoring", "plain"),
        ("prod", "pinned"),
    ]


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", push_monitor("good"))
    write(tmp_path, "broken/bad.yaml", "apiVersion: kubekuma.io/v1alpha1\nkind: [Monitor,\n")

    snap = load_folder(tmp_path)

    assert [r.name for r in snap.resources] == ["good"]
    assert len(snap.problems) == 1
    problem = snap.problems[0]
    assert problem.source == "broken/bad.yaml"
    assert problem.problems[0].reason.startswith("not valid YAML:")
    assert "line 3" in problem.problems[0].reason
    assert problem.lines()[0].startswith("broken/bad.yaml: ? ?: not valid YAML:")


def test_a_file_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))

    snap = load_folder(tmp_path)

    assert [p.source for p in snap.problems] == ["latin1.yaml"]
    assert "not UTF-8" in snap.problems[0].problems[0].reason


def test_an_invalid_manifest_is_reported_with_file_kind_and_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        "web.yaml",
        """
        apiVersion: kubekuma.io/v1alpha1
        kind: Monitor
        metadata: {name: web, namespace: demo}
        spec: {type: http, http: {url: "ftp://example.com"}}
        """,
    )

    assert problem_lines(tmp_path) == [
        "web.yaml: Monitor demo/web: spec.http.url: must be an absolute http or https URL with a host"
    ]


def test_a_duplicate_is_reported_with_the_first_place_it_was_declared(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", push_monitor("web"))
    write(tmp_path, "b/again.yml", push_monitor("web"))
    write(tmp_path, "c.yaml", push_monitor("web", namespace="other"))  # another namespace: no clash

    snap = load_folder(tmp_path)

    assert sorted((r.namespace, r.source) for r in snap.resources) == [
        ("default", "a.yaml"),
        ("other", "c.yaml"),
    ]
    assert problem_lines(tmp_path) == [
        "b/again.yml: Monitor default/web: metadata.name: declared twice; first in a.yaml"
    ]


def test_monitor_sets_are_expanded_and_clash_with_a_monitor_of_the_same_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        "set.yaml",
        """
        apiVersion: kubekuma.io/v1alpha1
        kind: MonitorSet
        metadata: {name: edge}
        spec:
          template: {type: tcp, tcp: {host: 127.0.0.1, port: 80}}
          items: [{name: web}, {name: api}]
        """,
    )
    write(tmp_path, "z.yaml", push_monitor("edge-api"))

    snap = load_folder(tmp_path)

    assert sorted(r.name for r in snap.resources) == ["edge", "edge-api", "edge-web"]
    edge = next(r for r in snap.resources if r.kind == "MonitorSet")
    assert {r.name for r in snap.resources if r.owner == edge.uid} == {"edge-web", "edge-api"}
    assert problem_lines(tmp_path) == [
        "z.yaml: Monitor default/edge-api: metadata.name: declared twice; first in set.yaml"
    ]


def test_a_monitor_set_item_error_is_reported_against_the_set(tmp_path: Path) -> None:
    write(
        tmp_path,
        "set.yaml",
        """
        apiVersion: kubekuma.io/v1alpha1
        kind: MonitorSet
        metadata: {name: edge, namespace: demo}
        spec:
          template: {type: tcp, tcp: {host: 127.0.0.1, port: 80}}
          items: [{name: web}, {name: bad, tcp: {port: 0}}]
        """,
    )

    assert problem_lines(tmp_path) == [
        "set.yaml: MonitorSet demo/edge: spec.items[bad].tcp.port: Input should be greater than or equal to 1"
    ]


# --- Secrets -------------------------------------------------------------------------------------


def test_secret_manifests_feed_the_secret_store(tmp_path: Path) -> None:
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    write(
        tmp_path,
        "secrets.yaml",
        f"""
        apiVersion: v1
        kind: Secret
        metadata: {{name: chat, namespace: demo}}
        data: {{token: {encoded}}}
        stringData: {{url: "https://hooks.example.com/x"}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: plain}}
        stringData: {{password: "12345", port: 8080}}
        """,
    )

    snap = load_folder(tmp_path)
    store = SecretStore(snap.secrets, environ={})

    assert snap.resources == [] and snap.problems == []
    assert store.get(SecretKeyRef(name="chat", key="token"), "demo") == SECRET_VALUE
    assert store.get(SecretKeyRef(name="chat", key="url"), "demo") == "https://hooks.example.com/x"
    assert store.require(SecretKeyRef(name="plain", key="password"), "default") == "12345"
    assert store.get(SecretKeyRef(name="plain", key="port"), "default") == "8080"


def test_a_secret_is_found_only_in_its_own_namespace(tmp_path: Path) -> None:
    store = SecretStore({("demo", "chat"): {"token": SECRET_VALUE}}, environ={})

    with pytest.raises(SecretError, match="Secret prod/chat not found"):
        store.get(SecretKeyRef(name="chat", key="token"), "prod")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param("data: {token: '%%%not-base64'}", "data:", id="bad-base64"),
        pytest.param("data: [token]", "data:", id="data-not-a-mapping"),
    ],
)
def test_a_broken_secret_is_a_problem_that_hides_its_value(tmp_path: Path, data: str, expected: str) -> None:
    write(tmp_path, "s.yaml", f"apiVersion: v1\nkind: Secret\nmetadata: {{name: chat}}\n{data}\n")
    write(tmp_path, "m.yaml", push_monitor("still-loaded"))

    snap = load_folder(tmp_path)

    assert [r.name for r in snap.resources] == ["still-loaded"]
    assert [(p.source, p.kind, p.name) for p in snap.problems] == [("s.yaml", "Secret", "chat")]
    line = snap.problems[0].lines()[0]
    assert line.startswith(f"s.yaml: Secret default/chat: {expected}")
    assert "%%%not-base64" not in line


def test_env_references_read_the_allowed_variables_of_the_environment() -> None:
    store = SecretStore(environ={"CHAT_TOKEN": SECRET_VALUE}, allowed_env={"CHAT_TOKEN", "UNSET_VAR"})

    assert store.get(SecretKeyRef(env="CHAT_TOKEN"), "demo") == SECRET_VALUE
    assert store.get(SecretKeyRef(env="UNSET_VAR", optional=True), "demo") is None


def test_env_references_default_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KK_TEST_SECRET_FROM_ENV", SECRET_VALUE)
    store = SecretStore(allowed_env={"KK_TEST_SECRET_FROM_ENV"})

    assert store.get(SecretKeyRef(env="KK_TEST_SECRET_FROM_ENV"), "demo") == SECRET_VALUE


def test_env_references_refuse_variables_not_allowed_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBEKUMA_DATABASE_URL", "postgresql://kk:hunter2@db/kk")
    with pytest.raises(SecretError, match=r"KUBEKUMA_DATABASE_URL is not allowed.*KUBEKUMA_ALLOWED_ENV"):
        SecretStore().get(SecretKeyRef(env="KUBEKUMA_DATABASE_URL"), "demo")
    with pytest.raises(SecretError, match="not allowed"):
        SecretStore(allowed_env={"OTHER"}).get(SecretKeyRef(env="KUBEKUMA_DATABASE_URL", optional=True), "d")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param(
            SecretKeyRef(env="OTHER_UNSET"), "environment variable OTHER_UNSET is not set", id="env"
        ),
        pytest.param(
            SecretKeyRef(name="missing", key="token"), "Secret demo/missing not found", id="no-secret"
        ),
        pytest.param(
            SecretKeyRef(name="chat", key="password"), "Secret demo/chat has no key password", id="no-key"
        ),
    ],
)
def test_missing_secrets_name_the_reference_never_a_value(ref: SecretKeyRef, expected: str) -> None:
    store = SecretStore(
        {("demo", "chat"): {"token": SECRET_VALUE}},
        environ={"OTHER": SECRET_VALUE},
        allowed_env={"OTHER_UNSET"},
    )

    with pytest.raises(SecretError) as caught:
        store.get(ref, "demo")

    assert str(caught.value) == expected
    assert SECRET_VALUE not in str(caught.value)


@pytest.mark.parametrize(
    "ref",
    [SecretKeyRef(name="missing", optional=True), SecretKeyRef(name="chat", key="password", optional=True)],
    ids=["no-secret", "no-key"],
)
def test_optional_references_resolve_to_none(ref: SecretKeyRef) -> None:
    store = SecretStore({("demo", "chat"): {"token": SECRET_VALUE}}, environ={})

    assert store.get(ref, "demo") is None
    with pytest.raises(SecretError, match=f"Secret demo/{ref.name} key {ref.key} is empty"):
        store.require(ref, "demo")


def test_replace_swaps_every_secret() -> None:
    store = SecretStore({("demo", "old"): {"value": "1"}}, environ={})

    store.replace({("demo", "new"): {"value": "2"}})

    assert store.get(SecretKeyRef(name="new"), "demo") == "2"
    with pytest.raises(SecretError, match="Secret demo/old not found"):
        store.get(SecretKeyRef(name="old"), "demo")


# --- change detection ------------------------------------------------------------------------------


def test_fingerprint_is_the_same_while_nothing_changes(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", push_monitor("a"))

    assert folder_fingerprint(tmp_path) == folder_fingerprint(tmp_path)


def test_fingerprint_changes_when_a_manifest_is_edited_added_or_removed(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", push_monitor("a"))
    start = folder_fingerprint(tmp_path)

    write(tmp_path, "a.yaml", push_monitor("a-renamed"))
    edited = folder_fingerprint(tmp_path)
    write(tmp_path, "sub/b.yml", push_monitor("b"))
    added = folder_fingerprint(tmp_path)
    a.unlink()
    removed = folder_fingerprint(tmp_path)

    assert len({start, edited, added, removed}) == 4
    assert [Path(p).name for p, _, _ in removed] == ["b.yml"]


def test_fingerprint_sees_an_edit_of_the_same_size(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", push_monitor("aaa"))
    before = folder_fingerprint(tmp_path)
    stat = a.stat()

    a.write_text(a.read_text().replace("aaa", "bbb"))
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    assert folder_fingerprint(tmp_path) != before


def test_fingerprint_ignores_files_that_are_not_manifests(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", push_monitor("a"))
    before = folder_fingerprint(tmp_path)

    write(tmp_path, "notes.txt", "anything")
    write(tmp_path, ".editor.yaml.swp", "x")

    assert folder_fingerprint(tmp_path) == before
