"""A folder of hostile manifests, written fresh by tests (a symlink loop cannot live in git)."""

from __future__ import annotations

import os
from pathlib import Path

ALIAS_BOMB = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: bomb, namespace: shop}
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
spec: {type: http, description: boom, http: {url: "http://x/"}, labels: *g}
"""
RECURSIVE_ALIAS = "a: &a [*a]\n"
DEEP = "spec: " + "[" * 5000 + "]" * 5000 + "\n"
UNKNOWN_KINDS = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitr
metadata: {name: typo, namespace: shop}
spec: {type: http, http: {url: "http://x/"}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Pod
metadata: {name: not-ours}
"""
SETTINGS = """\
apiVersion: kubekuma.io/v1alpha1
kind: KubeKumaSettings
metadata: {name: default}
spec: {}
"""
REDOS = """\
apiVersion: kubekuma.io/v1alpha1
kind: Silence
metadata: {name: redos, namespace: shop}
spec:
  matchers: [{name: team, operator: "=~", value: "(a)\\\\1(a+)+b"}]
  startsAt: "2024-01-01T00:00:00Z"
  endsAt: "2999-01-01T00:00:00Z"
---
apiVersion: kubekuma.io/v1alpha1
kind: Silence
metadata: {name: slow-on-python-re, namespace: shop}
spec:
  matchers: [{name: team, operator: "=~", value: "(a+)+b"}]
  startsAt: "2024-01-01T00:00:00Z"
  endsAt: "2999-01-01T00:00:00Z"
"""
ENV_READER = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: env-reader, namespace: shop}
spec:
  type: http
  http:
    url: "http://127.0.0.1:9/"
    headers: [{name: X-Stolen, valueFrom: {secretKeyRef: {env: KUBEKUMA_DATABASE_URL}}}]
"""

# What each evil file must be reported as (a substring of its problem line).
EXPECTED = {
    "bomb.yaml": "expands to more than",
    "recursive.yaml": "refers to a node that contains it",
    "deep.yaml": "nested deeper than",
    "huge.yaml": "larger than 1024 KiB",
    "latin1.yaml": "not UTF-8",
    "loop-a.yaml": "loops or leads nowhere",
    "loop-b.yaml": "loops or leads nowhere",
    "dangling.yml": "loops or leads nowhere",
    "unknown.yaml": "unknown kind 'Monitr'",
    "redos.yaml": "backreferences",
}


def write_evil(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bomb.yaml").write_text(ALIAS_BOMB)
    (folder / "recursive.yaml").write_text(RECURSIVE_ALIAS)
    (folder / "deep.yaml").write_text(DEEP)
    (folder / "huge.yaml").write_text("# padding\n" * 110_000)
    (folder / "latin1.yaml").write_bytes("kind: Monitor\nmetadata: {name: caf\xe9}\n".encode("latin-1"))
    os.symlink("loop-b.yaml", folder / "loop-a.yaml")
    os.symlink("loop-a.yaml", folder / "loop-b.yaml")
    os.symlink("gone.yaml", folder / "dangling.yml")
    os.symlink(".", folder / "self-dir")  # a directory loop: walking must not follow it
    (folder / "unknown.yaml").write_text(UNKNOWN_KINDS)
    (folder / "settings.yaml").write_text(SETTINGS)
    (folder / "redos.yaml").write_text(REDOS)
    (folder / "env-reader.yaml").write_text(ENV_READER)
