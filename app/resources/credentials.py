"""Credentials written into manifests as literals: warned about, and never shown.

Secrets belong in Secrets (`secretKeyRef`), but a manifest can still carry one literally:
`https://user:password@host/`, a proxy URL with a password, an `Authorization` header
with a `value`, a form field called `password`. Such a manifest stays valid (refusing it
would stop a running monitor over style) but gets a warning naming the field, and every
place that shows a spec, a target, a reason or a log line shows it through `redact`
(log lines through the handler filter of `app.config.configure_logging`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from app.config import MASK, redact
from app.config import URL_USERINFO as _USERINFO

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "private-token",
    }
)
_SENSITIVE_KEY = re.compile(r"(?i)(passw(or)?d|secret|token|api[-_]?key|credential)")


def _sensitive_key(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key)) and not key.endswith(("SecretRef", "Ref"))


def redact_value(value: Any) -> Any:
    """A spec, a status or heartbeat details with every literal credential masked (a new object)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        header = str(value.get("name", "")).lower() in SENSITIVE_HEADERS
        out = {}
        for k, v in value.items():
            if isinstance(v, str) and ((header and k == "value") or _sensitive_key(str(k))):
                out[k] = MASK
            else:
                out[k] = redact_value(v)
        return out
    return value


def literal_credentials(spec: Any, path: str = "spec") -> Iterator[tuple[str, str]]:
    """(field, warning) for each credential written literally in a spec."""
    if isinstance(spec, str):
        if _USERINFO.search(spec):
            yield path, "a URL with user information (a credential) written literally; use a Secret"
    elif isinstance(spec, list):
        for i, v in enumerate(spec):
            yield from literal_credentials(v, f"{path}[{i}]")
    elif isinstance(spec, dict):
        name = str(spec.get("name", ""))
        if name.lower() in SENSITIVE_HEADERS and isinstance(spec.get("value"), str):
            yield f"{path}.value", f"a literal {name} header; use valueFrom.secretKeyRef"
        for k, v in spec.items():
            if isinstance(v, str) and _sensitive_key(str(k)) and v:
                yield f"{path}.{k}", "a literal credential; reference a Secret instead"
            else:
                yield from literal_credentials(v, f"{path}.{k}")


def warnings_of(spec: Any) -> list[str]:
    return [f"{field}: {why}" for field, why in literal_credentials(spec)]
