"""The OpenAPI part of access: the login, audit and mutation routes, and the security of every route.

`secure(doc)` is applied to the whole document: each operation that `policy.requirement`
does not call public gets its `security` (a session cookie or a bearer API key) and its
401 and 403 answers, so the document cannot drift from the middleware.
"""

from __future__ import annotations

from typing import Any

from app.http.access.policy import requirement

Schema = dict[str, Any]
_ERR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _err(text: str) -> Schema:
    return {"description": text, "content": _ERR}


def _p(name: str, text: str, where: str = "path") -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": text,
        "schema": {"type": "string"},
    }


def _op(
    summary: str,
    ok: str = "200",
    params: list[Schema] | None = None,
    body: bool | Schema = False,
    media: str = "application/json",
    errors: tuple[str, ...] = ("400", "404"),
) -> Schema:
    texts = {
        "400": "invalid body or parameter",
        "401": "wrong username, password or code",
        "404": "not found",
        "409": "conflicts with what exists",
        "422": "the manifest is invalid; the description lists every problem",
        "429": "throttled",
        "502": "the provider refused",
        "503": "no manifests folder or Kubernetes API to write to",
    }
    out: Schema = {
        "summary": summary,
        "tags": ["access" if "auth" in summary or "audit" in summary else "changes"],
        "parameters": params or [],
        "responses": {
            ok: {"description": summary, "content": {media: {"schema": {"type": ["object", "string"]}}}}
            if ok != "204"
            else {"description": summary}
        },
    }
    for code in errors:
        out["responses"][code] = _err(texts[code])
    if body:
        schema = body if isinstance(body, dict) else {"type": "object"}
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return out


_STR: Schema = {"type": "string", "minLength": 1, "maxLength": 200}
LOGIN: Schema = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        # no control characters, not padded with spaces (what the server checks)
        "username": {**_STR, "pattern": r"^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"},
        "password": {"type": "string", "minLength": 1, "maxLength": 1024},
        "totp": {"type": "string", "maxLength": 64},
    },
}
CODE: Schema = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string", "maxLength": 64}},
}


KIND = _p("kind", "a kind, its plural or short name")
NS, NAME = _p("namespace", "namespace (`-` for cluster-scoped kinds)"), _p("name", "object name")
MUTATE = ("400", "404", "409", "422", "503")

PATHS: dict[str, Schema] = {
    "/login": {"get": _op("the login page (HTML)", media="text/html", errors=())},
    "/api/v1/auth/login": {
        "post": {
            **_op(
                "auth: log in with username, password and (when enrolled) a TOTP or recovery code",
                body=LOGIN,
                errors=("400", "401", "429"),
            ),
            "description": "JSON or an HTML form. Sets the session cookie (HttpOnly, SameSite=Lax) and "
            "answers the CSRF token to echo in X-CSRF-Token. 401 on wrong credentials; 429 with "
            "Retry-After after too many failures for the user or the address.",
        }
    },
    "/api/v1/auth/oidc/login": {
        "get": _op("auth: single sign-on; redirects (302) to the issuer", "302", errors=("404",))
    },
    "/api/v1/auth/oidc/callback": {
        "get": _op(
            "auth: back from the issuer; sets the session and redirects (303) to the dashboard",
            "303",
            [_p("code", "authorization code", "query"), _p("state", "the login's state", "query")],
            errors=("400", "404"),
        )
    },
    "/api/v1/auth/logout": {"post": _op("auth: end this session", ok="204", errors=())},
    "/api/v1/auth/me": {"get": _op("auth: who is asking, with role and scopes", errors=())},
    "/api/v1/auth/totp": {
        "post": _op("auth: start TOTP enrolment; a QR code as inline SVG", errors=("409",))
    },
    "/api/v1/auth/totp/confirm": {
        "post": _op(
            "auth: confirm TOTP with a code; recovery codes, shown once", body=CODE, errors=("400", "409")
        )
    },
    "/api/v1/audit": {
        "get": _op(
            "audit events, newest first (admins)",
            params=[
                _p("action", "login, login.failed, logout, key.used, mutation or totp.enrolled", "query"),
                _p("limit", "1-1000 (default 100)", "query"),
                _p("before", "the previous page's next", "query"),
            ],
            errors=("400",),
        )
    },
    "/api/v1/resources/{kind}/{namespace}": {
        "post": _op("create an object (metadata + spec)", "201", [KIND, NS], True, errors=MUTATE)
    },
    "/api/v1/resources/{kind}/{namespace}/{name}": {
        "get": _op("one object with its status", params=[KIND, NS, NAME], errors=("404",)),
        "put": _op("replace an object's labels and spec", params=[KIND, NS, NAME], body=True, errors=MUTATE),
        "delete": _op("delete an object", params=[KIND, NS, NAME], errors=MUTATE),
    },
    "/api/v1/silences": {
        "get": _op("every Silence, with whether it is active", errors=()),
        "post": _op("create a Silence (createdBy is the caller)", "201", body=True, errors=MUTATE),
    },
    "/api/v1/silences/{namespace}/{name}": {
        "put": _op("update a Silence's spec", params=[NS, NAME], body=True, errors=MUTATE)
    },
    "/api/v1/silences/{namespace}/{name}/expire": {
        "post": _op("end a Silence now", params=[NS, NAME], errors=MUTATE)
    },
    "/api/v1/monitors/{namespace}/{name}/pause": {
        "post": _op("pause a monitor (spec.enabled: false)", params=[NS, NAME], errors=MUTATE)
    },
    "/api/v1/monitors/{namespace}/{name}/resume": {
        "post": _op("resume a monitor (spec.enabled: true)", params=[NS, NAME], errors=MUTATE)
    },
    "/api/v1/incidents/{incident_id}/ack": {
        "post": _op(
            "acknowledge an incident: reminders stop, the caller is recorded",
            params=[_p("incident_id", "incident id")],
            errors=("404",),
        )
    },
    "/api/v1/providers/{namespace}/{name}/test": {
        "post": _op("send a test notification through a provider", params=[NS, NAME], errors=("404", "502"))
    },
    "/api/v1/export": {
        "get": _op(
            "every object as multi-document YAML, ready to commit (no status, no Secret values)",
            params=[_p("kind", "only this kind", "query")],
            media="application/yaml",
            errors=("404",),
        )
    },
}

SECURITY_SCHEMES: Schema = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "kk_session",
        "description": "from POST /api/v1/auth/login; mutations also need X-CSRF-Token",
    },
    "apiKey": {"type": "http", "scheme": "bearer", "description": "an ApiKey (kubekuma apikey create)"},
}


def secure(doc: Schema) -> Schema:
    """Add the access routes, security and 401/403 (and readOnly's 403) to every protected operation."""
    doc["paths"] = {**doc["paths"], **PATHS}
    doc.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            need = requirement(method.upper(), path)
            if need is None:
                op["security"] = []
                continue
            op["security"] = [{"session": []}, {"apiKey": []}]
            op["responses"]["401"] = _err("no session or API key (or an unknown or expired key)")
            why = f"needs the role {need.role}" + (
                f" (API keys with scopes: {need.scope})" if need.area else ""
            )
            if need.verb == "write":
                why += "; with a session also X-CSRF-Token; refused while readOnly: true"
            op["responses"]["403"] = _err(why)
    return doc
