"""A small, faithful OpenID provider on loopback: discovery, JWKS, authorize and token endpoints.

It signs real RS256 ID tokens (joserfc), checks PKCE (S256), the client secret and the
redirect URI, and hands out each code once. Tests steer it: who logs in with which groups,
key rotation, an expired token, a wrong audience.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


@dataclass
class Provider:
    client_id: str = "kubekuma"
    client_secret: str = "provider-client-secret"
    url: str = ""
    user: str = "olivia"
    groups: list[str] = field(default_factory=lambda: ["sre"])
    audience: str | None = None  # None: the client id
    lifetime: int = 300  # seconds; negative for an expired token
    keys: list[RSAKey] = field(default_factory=list)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def rotate(self) -> None:
        """A new signing key; the old one leaves the JWKS (as after a provider's rotation)."""
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig"})]

    def jwks(self) -> dict[str, Any]:
        return KeySet(self.keys).as_dict(private=False)

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": f"sub-{self.user}",
            "aud": self.audience or self.client_id,
            "iat": now,
            "exp": now + self.lifetime,
            "nonce": nonce,
            "preferred_username": self.user,
            "groups": self.groups,
        }
        key = self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@contextmanager
def oidc_provider() -> Iterator[Provider]:
    p = Provider()
    p.rotate()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._send(
                    200,
                    {
                        "issuer": p.url,
                        "authorization_endpoint": p.url + "/authorize",
                        "token_endpoint": p.url + "/token",
                        "jwks_uri": p.url + "/jwks",
                        "response_types_supported": ["code"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "code_challenge_methods_supported": ["S256"],
                    },
                )
            elif parts.path == "/jwks":
                self._send(200, p.jwks())
            elif parts.path == "/authorize":
                if q.get("client_id") != p.client_id or q.get("code_challenge_method") != "S256":
                    self._send(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                p.codes[code] = {
                    "nonce": q.get("nonce", ""),
                    "challenge": q["code_challenge"],
                    "redirect_uri": q["redirect_uri"],
                }
                back = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
                self._send(302, None, {"Location": back})
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            p.token_requests += 1
            auth = self.headers.get("Authorization", "")
            basic = base64.b64encode(f"{p.client_id}:{p.client_secret}".encode()).decode()
            posted = form.get("client_id") == p.client_id and form.get("client_secret") == p.client_secret
            if auth != f"Basic {basic}" and not posted:
                self._send(401, {"error": "invalid_client"})
                return
            grant = p.codes.pop(form.get("code", ""), None)  # a code works once
            verifier = form.get("code_verifier", "")
            if (
                grant is None
                or form.get("redirect_uri") != grant["redirect_uri"]
                or _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]
            ):
                self._send(400, {"error": "invalid_grant"})
                return
            self._send(
                200,
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": p.id_token(grant["nonce"]),
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    p.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield p
    finally:
        server.shutdown()
        server.server_close()
