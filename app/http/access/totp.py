"""TOTP enrolment for a logged-in local user: a QR code (inline SVG) and, once confirmed, the
secret written to the Secret the user's `totpSecretRef` names, plus ten single-use recovery codes.

The pending secret lives only in this process's memory for ten minutes; the recovery codes
are stored as SHA-256 hashes and shown once. Because the user's definition changes when the
Secret does, every session of the user ends and the next login asks for a code.
"""

from __future__ import annotations

import io
import secrets
import threading
import time

import falcon
import pyotp
import segno

from app.http.access.hashing import digest
from app.http.access.login import read_body
from app.http.access.middleware import Access
from app.http.access.principal import Principal
from app.resources.kinds import LocalUserSpec
from app.resources.writer import ResourceWriter, WriteError

PENDING_FOR = 600.0


def qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def recovery_codes(n: int = 10) -> list[str]:
    return [f"{secrets.token_hex(5).upper()}" for _ in range(n)]


class TotpEnrolment:
    def __init__(self, access: Access, writer: ResourceWriter | None) -> None:
        self.access, self.writer = access, writer
        self._pending: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def _user(self, req: falcon.Request) -> tuple[Principal, str]:
        p: Principal = req.context.principal
        user = req.context.directory.users.get(p.name)
        if p.via != "session" or user is None or user.source != "local":
            raise falcon.HTTPConflict(
                title="Not a local user",
                description="TOTP enrolment is for local users logged in with a session",
            )
        return p, user.resource

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        p, _ = self._user(req)
        secret = pyotp.random_base32()
        with self._lock:
            self._pending[p.session_hash or ""] = (time.monotonic(), secret)
        uri = pyotp.TOTP(secret).provisioning_uri(name=p.name, issuer_name="KubeKuma")
        # Shown once, to its owner only, for authenticators that cannot scan; never logged or stored.
        resp.media = {"qrSvg": qr_svg(uri), "manualKey": secret, "confirm": "POST /api/v1/auth/totp/confirm"}

    def on_post_confirm(self, req: falcon.Request, resp: falcon.Response) -> None:
        p, resource = self._user(req)
        code = str(read_body(req).get("code") or "")
        with self._lock:
            started, secret = self._pending.get(p.session_hash or "", (0.0, ""))
        if not secret or time.monotonic() - started > PENDING_FOR:
            raise falcon.HTTPConflict(title="No enrolment", description="start with POST /api/v1/auth/totp")
        if not pyotp.TOTP(secret).verify(code, for_time=self.access.clock(), valid_window=1):
            raise falcon.HTTPBadRequest(
                title="Wrong code", description="the code does not match; try the next one"
            )
        namespace, _, name = resource.partition("/")
        rec = self.access.store.resources.get("LocalUser", namespace, name)
        spec = LocalUserSpec.model_validate(rec.spec) if rec and rec.spec else None
        ref = spec.totpSecretRef if spec else None
        if spec is not None and ref is not None and ref.name == spec.passwordHashSecretRef.name:
            raise falcon.HTTPConflict(
                title="Shared Secret",
                description="totpSecretRef must name a Secret of its own: writing it would replace the "
                "password hash",
            )
        if ref is None or not ref.name or self.writer is None:
            raise falcon.HTTPConflict(
                title="Nowhere to keep the secret",
                description="the LocalUser needs totpSecretRef naming a Secret (kubekuma user create adds "
                "one), "
                "and this process a manifests folder or the Kubernetes API",
            )
        try:
            self.writer.apply_secret(namespace, ref.name, {ref.key: secret})
        except WriteError as exc:
            raise falcon.HTTPConflict(title="Cannot write", description=str(exc)) from None
        codes = recovery_codes()
        self.access.store.recovery_codes.replace(p.name, [digest(c) for c in codes])
        with self._lock:
            self._pending.pop(p.session_hash or "", None)
        self.access.audit.record(req, p.name, "totp.enrolled", resource)
        resp.media = {"recoveryCodes": codes, "note": "each code works once; your sessions end: log in again"}
