"""HTTP(S) checks: one request, redirects followed by hand, assertions on status and body.

Redirects are followed here rather than by requests so that every hop obeys the overall
deadline and `maxRedirects`, and so a redirect body is never read past our cap. The
request is sent through the session's adapter, not `Session.send`, so monitors sharing a
session share its connection pools but never each other's cookies.
"""

from __future__ import annotations

import ssl
import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import InsecureRequestWarning

from app.checkers import certs, sockets, timing, tlsclient
from app.checkers.base import CheckContext, register
from app.checkers.content import json_query_failure, keyword_failure
from app.checkers.deadline import Deadline, DeadlineExceeded, call_within
from app.checkers.errors import CheckFailed, classify
from app.checkers.sockets import SocketTracker, tracking
from app.checkers.values import optional_secret, pairs, secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import HttpSpec, MonitorSpec, MonitorType

# `tls.verify: false` is a choice made in the manifest; warning about it on every check only floods logs.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)

USER_AGENT = "KubeKuma/0.1 (uptime check)"
CHUNK = 64 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(slots=True)
class Outgoing:
    """The request as configured, before any redirect changed it."""

    method: str
    headers: CaseInsensitiveDict[str]
    data: Any = None
    json: Any = None
    auth: Any = None
    bearer: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # ca / cert / key paths


@dataclass(slots=True)
class Seen:
    """What the check observed, accumulated across hops."""

    cert: dict[str, Any] | None = None
    redirects: int = 0
    url: str = ""
    headers_ms: float | None = None
    setup_ms: dict[str, float] = field(default_factory=dict)  # dns, connect, tls of new connections
    first_byte_ms: float | None = None  # of the last hop: request sent to headers read
    reused: bool = False

    def note_hop(self, setup: dict[str, float] | None, sent: float, answered: float) -> None:
        waited = (answered - sent) * 1000
        if setup is None:
            self.reused = True
        else:
            for phase, ms in setup.items():
                self.setup_ms[phase] = round(self.setup_ms.get(phase, 0.0) + ms, 2)
            waited -= sum(setup.values())
        self.first_byte_ms = round(max(0.0, waited), 2)

    def timing(self, total_ms: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.setup_ms,
            "firstByteMs": self.first_byte_ms,
            "headersMs": self.headers_ms,
        }
        out["totalMs"] = total_ms
        if self.reused and not self.setup_ms:
            out["reusedConnection"] = True
        return out


def _outgoing(s: HttpSpec, ctx: CheckContext) -> Outgoing:
    headers = requests.utils.default_headers()
    headers["User-Agent"] = USER_AGENT
    headers.update(pairs(s.headers, ctx, "header"))
    out = Outgoing(s.method, headers)
    if s.body is not None:
        b = s.body
        if b.json_ is not None:
            out.json = b.json_
        elif b.text is not None:
            out.data = b.text.encode()
        elif b.valueFrom is not None:
            out.data = secret(b.valueFrom.secretKeyRef, ctx, "body.valueFrom").encode()
        else:
            out.data = {**(b.form or {}), **dict(pairs(b.formFrom or [], ctx, "form field"))}
    if s.basicAuth is not None:
        password = secret(s.basicAuth.passwordSecretRef, ctx, "basicAuth.passwordSecretRef")
        out.auth = HTTPBasicAuth(s.basicAuth.username, password)
    if s.bearerTokenSecretRef is not None:
        out.bearer = secret(s.bearerTokenSecretRef, ctx, "bearerTokenSecretRef").strip()
    return out


@lru_cache(maxsize=1024)
def _environ_proxies(origin: tuple[str, str]) -> dict[str, str]:
    # HTTP(S)_PROXY / NO_PROXY as requests reads them. Reading os.environ costs more CPU than
    # the rest of a plain check, and the environment does not change while we run.
    return dict(requests.utils.get_environ_proxies(f"{origin[0]}://{origin[1]}/"))


def _send(
    session: requests.Session,
    s: HttpSpec,
    out: Outgoing,
    url: str,
    method: str,
    with_body: bool,
    with_auth: bool,
    jar: RequestsCookieJar,
    deadline: Deadline,
) -> requests.Response:
    headers = CaseInsensitiveDict(out.headers)
    if with_auth and out.bearer:
        headers["Authorization"] = f"Bearer {out.bearer}"
    if not with_auth:
        headers.pop("Authorization", None)
    req = requests.Request(
        method,
        url,
        headers=headers,
        cookies=jar,
        data=out.data if with_body else None,
        json=out.json if with_body else None,
        auth=out.auth if with_auth else None,
    )
    prepared = req.prepare()
    proxies = {"http": s.proxy, "https": s.proxy} if s.proxy else _environ_proxies(urlsplit(url)[:2])
    verify: bool | str = out.files.get("ca", True) if s.tls.verify else False
    cert: Any = None
    if "cert" in out.files:
        cert = (out.files["cert"], out.files["key"]) if "key" in out.files else out.files["cert"]
    left = deadline.remaining()
    adapter = session.get_adapter(url)
    sockets.install(adapter)  # timed connections whose sockets the check can shut at its deadline
    resp = adapter.send(
        prepared, stream=True, timeout=(left, left), verify=verify, cert=cert, proxies=proxies
    )
    extract_cookies_to_jar(jar, prepared, resp.raw)
    return resp


def _record_cert(resp: requests.Response, seen: Seen, s: HttpSpec, ctx: CheckContext) -> None:
    if seen.cert is not None or not resp.url.startswith("https:"):
        return
    conn = getattr(resp.raw, "connection", None)
    der = tlsclient.peer_der(getattr(conn, "sock", None))
    if der:
        warn = s.certificateExpiry.warnDays if s.certificateExpiry else None
        seen.cert = certs.describe(der, urlsplit(resp.url).hostname or "", ctx.clock(), warn)


def _read_body(resp: requests.Response, cap: int, deadline: Deadline) -> tuple[bytes, bool]:
    buf = bytearray()
    if cap == 0:
        return b"", True
    for chunk in resp.iter_content(CHUNK):
        if deadline.expired():
            raise DeadlineExceeded("reading the body")
        room = cap - len(buf)
        buf += chunk[:room]
        if len(chunk) > room:
            return bytes(buf), True
    return bytes(buf), False


def _exchange(
    s: HttpSpec, ctx: CheckContext, session: requests.Session, out: Outgoing, seen: Seen, deadline: Deadline
) -> CheckResult:
    url, method, with_body, with_auth = s.url, s.method, True, True
    origin, secure_origin = urlsplit(s.url).hostname, s.url.startswith("https:")
    jar = RequestsCookieJar()
    while True:
        seen.url = url
        sent = time.perf_counter()
        resp = _send(session, s, out, url, method, with_body, with_auth, jar, deadline)
        seen.note_hop(timing.setup_of(resp.raw), sent, time.perf_counter())
        try:
            _record_cert(resp, seen, s, ctx)
            target = session.get_redirect_target(resp) if resp.status_code in _REDIRECTS else None
            if not (s.followRedirects and target):
                seen.headers_ms = deadline.elapsed_ms()
                body, truncated = _read_body(resp, s.maxBodyBytes, deadline)
                return _judge(s, resp, body, truncated, seen, deadline)
        finally:
            resp.close()
        if seen.redirects >= s.maxRedirects:
            return CheckResult.down(
                FailureClass.STATUS,
                f"more than {s.maxRedirects} redirects (last: HTTP {resp.status_code} to {target})",
                deadline.elapsed_ms(),
            )
        seen.redirects += 1
        url = requests.compat.urljoin(resp.url, requests.utils.requote_uri(target or ""))
        # Browsers turn POST into GET on 301/302 and everything but HEAD into GET on 303.
        if (resp.status_code == 303 and method != "HEAD") or (
            resp.status_code in (301, 302) and method == "POST"
        ):
            method, with_body = "GET", False
        # Credentials stay with the host they were configured for, and never drop to plain http.
        hop = urlsplit(url)
        with_auth = with_auth and hop.hostname == origin and not (hop.scheme == "http" and secure_origin)
        deadline.check("following redirects")


def _decode(body: bytes, content_type: str) -> str:
    # Only a declared charset counts: requests' ISO-8859-1 default for text/* would garble UTF-8
    # keywords, and an unknown charset name must not turn into an internal error.
    charset = "utf-8"
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip("\"' ")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _judge(
    s: HttpSpec, resp: requests.Response, body: bytes, truncated: bool, seen: Seen, deadline: Deadline
) -> CheckResult:
    latency = deadline.elapsed_ms()
    details: dict[str, Any] = {
        "statusCode": resp.status_code,
        "url": seen.url,
        "redirects": seen.redirects,
        "bodyBytes": len(body),
        "timing": seen.timing(latency),
    }
    timing.HTTP_PHASES.observe({**details["timing"], "totalMs": latency})
    if truncated:
        details["bodyTruncated"] = True
    if seen.cert is not None:
        details["cert"] = seen.cert
    if not s.accepts(resp.status_code):
        accepted = ", ".join(s.acceptedStatusCodes)
        reason = f"HTTP {resp.status_code} {resp.reason or ''}".rstrip() + f" (accepted: {accepted})"
        return CheckResult.down(FailureClass.STATUS, reason, latency, **details)
    text = _decode(body, resp.headers.get("Content-Type", "")) if (s.keyword or s.jsonQuery) else ""
    if s.keyword is not None and (failed := keyword_failure(text, s.keyword)) is not None:
        return failed.result(latency, **details)
    if s.jsonQuery is not None:
        if truncated:
            reason = f"response is larger than maxBodyBytes ({s.maxBodyBytes}); cannot evaluate jsonQuery"
            return CheckResult.down(FailureClass.JSON, reason, latency, **details)
        failed, value = json_query_failure(text, s.jsonQuery)
        details["jsonValue"] = value
        if failed is not None:
            return failed.result(latency, **details)
    return CheckResult.up(latency, f"HTTP {resp.status_code}", **details)


def _transport_failure(
    exc: Exception, s: HttpSpec, seen: Seen, ctx: CheckContext, deadline: Deadline
) -> CheckResult:
    host = urlsplit(seen.url or s.url).hostname or ""
    target = urlsplit(seen.url or s.url).netloc
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        failure, reason = FailureClass.TIMEOUT, f"connecting to {target} timed out"
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        failure, reason = FailureClass.TIMEOUT, f"{target} accepted the connection but did not answer in time"
    elif isinstance(exc, requests.exceptions.ProxyError):
        failure, reason = FailureClass.UNREACHABLE, f"proxy {s.proxy or '(from environment)'} failed: {exc}"
    elif isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        # The configured URL is the manifest's problem; a bad redirect target is the server's.
        failure = FailureClass.PROTOCOL if seen.redirects else FailureClass.CONFIG
        reason = f"cannot request {seen.url or s.url}: {exc}"
    else:
        failure, reason = classify(exc, target)
        if failure is FailureClass.ERROR and isinstance(exc, requests.exceptions.RequestException):
            failure, reason = FailureClass.PROTOCOL, f"{target} sent a response we cannot read: {exc}"
    details: dict[str, Any] = {"url": seen.url or s.url}
    if failure is FailureClass.CERTIFICATE:
        # The verified handshake was refused; look again without verifying to show the user why.
        der = tlsclient.fetch_der(host, urlsplit(seen.url or s.url).port or 443, None, deadline)
        if der:
            warn = s.certificateExpiry.warnDays if s.certificateExpiry else None
            details["cert"] = certs.describe(der, host, ctx.clock(), warn)
    elif seen.cert is not None:
        details["cert"] = seen.cert
    return CheckResult.down(failure, reason, deadline.elapsed_ms(), **details)


def _check_client_cert(files: dict[str, str]) -> None:
    # A broken PEM would otherwise surface as a TLS failure of the target, which it is not.
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(files["cert"], files.get("key"))
    except (ssl.SSLError, ValueError) as exc:
        reason = (
            f"tls.clientCertSecretRef/clientKeySecretRef do not hold a PEM certificate and its key: {exc}"
        )
        raise CheckFailed(FailureClass.CONFIG, reason) from None


def _check(s: HttpSpec, ctx: CheckContext, deadline: Deadline) -> CheckResult:
    seen = Seen(url=s.url)
    with ExitStack() as stack:
        try:
            out = _outgoing(s, ctx)
            files = tlsclient.private_files(
                cert=optional_secret(s.tls.clientCertSecretRef, ctx, "tls.clientCertSecretRef"),
                key=optional_secret(s.tls.clientKeySecretRef, ctx, "tls.clientKeySecretRef"),
            )
            out.files = dict(stack.enter_context(files))
            if (ca := optional_secret(s.tls.caSecretRef, ctx, "tls.caSecretRef")) is not None:
                # requests takes one bundle: the usual one plus this CA, as the other checkers trust it.
                out.files["ca"] = tlsclient.ca_file(ca, with_default=requests.utils.DEFAULT_CA_BUNDLE_PATH)
            if "cert" in out.files:
                _check_client_cert(out.files)
            session = ctx.session
            if session is None:
                session = stack.enter_context(requests.Session())
            return _exchange(s, ctx, session, out, seen, deadline)
        except CheckFailed as failed:
            return failed.result(deadline.elapsed_ms())
        except DeadlineExceeded as exc:
            return CheckResult.down(
                FailureClass.TIMEOUT,
                f"{exc} took longer than the {deadline.seconds:g}s timeout",
                deadline.elapsed_ms(),
                url=seen.url,
            )
        except OSError as exc:  # requests' exceptions are OSErrors too
            return _transport_failure(exc, s, seen, ctx, deadline)


@register(MonitorType.HTTP)
def check_http(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: HttpSpec = spec.http  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    tracker = SocketTracker()

    def run() -> CheckResult:
        with tracking(tracker):
            return _check(s, ctx, deadline)

    try:
        # At the deadline the check's sockets are shut down, so a server that drips cannot keep its thread.
        return call_within(run, deadline, on_timeout=tracker.close)
    except DeadlineExceeded:
        return CheckResult.down(
            FailureClass.TIMEOUT,
            f"no complete response from {urlsplit(s.url).netloc} within {spec.timeout:g}s",
            deadline.elapsed_ms(),
            url=s.url,
        )
