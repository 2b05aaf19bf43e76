"""Settings (`/settings`): the KubeKumaSettings in force, read-only, with defaults filled in.

The spec holds references to Secrets, never their values; still, any field whose name
says secret, password, token or key and that holds a plain string is shown as redacted,
so a value pasted into the wrong field never reaches a page. Changes go through the
manifest (or the API, for admins), not this page.
"""

from __future__ import annotations

import re
from typing import Any

import falcon
import yaml
from pydantic import ValidationError

from app.http.dashboard import Deps, render
from app.http.dashboard.openapi import page
from app.resources.kinds import KubeKumaSettingsSpec

_SECRETISH = re.compile(r"secret|password|token|apikey|privatekey|credential", re.I)
REDACTED = "(redacted)"


def redact(value: Any, name: str = "") -> Any:
    """A copy with every plain string under a secret-sounding key replaced; references (`…Ref`) kept."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, name) for v in value]
    if isinstance(value, str) and _SECRETISH.search(name) and not name.endswith("Ref"):
        return REDACTED
    return value


class SettingsPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        rec = self.deps.store.resources.get("KubeKumaSettings", "", "default")
        problem = ""
        try:
            spec = KubeKumaSettingsSpec.model_validate((rec.spec if rec else None) or {})
        except ValidationError as exc:
            spec, problem = KubeKumaSettingsSpec(), f"{exc.error_count()} problem(s); the defaults apply"
        effective = redact(spec.model_dump(mode="json", by_alias=True))
        written = redact(rec.spec) if rec and rec.spec else None
        render(req, resp, "dashboard/settings.html", active="settings", source=rec.source if rec else "",
               effective=yaml.safe_dump(effective, sort_keys=False, allow_unicode=True),
               written=yaml.safe_dump(written, sort_keys=False, allow_unicode=True) if written else "",
               problem=problem, exists=rec is not None)  # fmt: skip


OPENAPI = {"/settings": {"get": page("the settings in force, read-only, secrets redacted (HTML)")}}


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/settings", SettingsPage(deps))
