"""What the alerting pages share: the alerting kinds as typed views, and bounded query parameters.

The views are the ones the alerting engine routes with (`app.alerting.config.build_config`),
rebuilt only when the resource cache's revision moves, so a page shows exactly the
policies, providers, silences and windows that decide alerts, and parses no spec per request.
"""

from __future__ import annotations

from typing import Any

import falcon

from app.alerting.config import AlertConfig, build_config
from app.catalog import RevisionCache
from app.http.errors import bad_request
from app.store import Store

MAX_TEXT = 200

# Parameter schemas for the pages' OPENAPI: exactly what `text_param`, `split_key` and
# `int_param` accept, so a request the document allows is never refused (schemathesis checks).
TEXT = {"type": "string", "maxLength": MAX_TEXT, "pattern": "^[^\\x00-\\x1f]*$"}
KEY = {
    "type": "string",
    "maxLength": MAX_TEXT,
    "pattern": "^[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*$",
}  # namespace/name
BEFORE = {"type": "integer", "minimum": 1, "maximum": 2**62}


def choice(*values: str) -> dict[str, Any]:
    """One of `values`, or empty (the default)."""
    return {"type": "string", "enum": ["", *values]}


def alert_config(store: Store) -> RevisionCache[AlertConfig]:
    return RevisionCache(
        "dashboard alerting", store.resources.revision,
        lambda rev, old: build_config(store.resources.list(), rev), AlertConfig(),
    )  # fmt: skip


def text_param(req: falcon.Request, name: str, choices: tuple[str, ...] = ()) -> str:
    """A short text parameter: bounded, no control characters;, one of `choices` if any."""
    raw = (req.get_param(name) or "").strip()
    if len(raw) > MAX_TEXT or any(ord(c) < 32 for c in raw):
        raise bad_request(name, f"at most {MAX_TEXT} characters, no control characters")
    if raw and choices and raw not in choices:
        raise bad_request(name, f"must be one of {', '.join(choices)}")
    return raw


def split_key(text: str) -> tuple[str, str] | None:
    """'namespace/name' -> (namespace, name); None for anything else."""
    ns, sep, name = text.partition("/")
    return (ns, name) if sep and ns and name and "/" not in name else None
