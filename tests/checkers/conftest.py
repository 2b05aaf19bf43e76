"""Fixtures for the checker tests: the servers of `servers.py`, started per test and stopped after.

`run` validates a monitor spec as a manifest would be and runs it through `run_check`,
so each test sees what the worker would record.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.checkers.base import CheckContext
from app.model import CheckResult
from app.resources.loader import SecretStore
from app.resources.monitor import MonitorSpec

from .servers import (
    A2sResponder,
    DnsServer,
    KubeApi,
    Pki,
    Served,
    TargetHandler,
    TcpServer,
    TlsHttpServer,
    WebsocketHandler,
    free_port,
    kube_handler,
    make_pki,
    serve_in_thread,
    tcp_handler,
)

# ---------------------------------------------------------------- certificates


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------- specs and contexts


@pytest.fixture
def secrets() -> dict[str, dict[str, str]]:
    """Secrets of namespace `default` by name; tests add to it before building the context."""
    return {}


@pytest.fixture
def make_ctx(secrets: dict[str, dict[str, str]]) -> Callable[..., CheckContext]:
    def make(**kw: Any) -> CheckContext:
        store = SecretStore({("default", name): data for name, data in secrets.items()}, environ={})
        return CheckContext(uid="uid-1", name="m", namespace="default", secrets=store, **kw)

    return make


@pytest.fixture
def run(make_ctx: Callable[..., CheckContext]) -> Callable[..., CheckResult]:
    """Validate a monitor spec as a manifest would be, and run its checker through run_check."""
    from app.checkers import run_check

    def go(
        type_: str, settings: dict[str, Any], timeout: str = "3s", ctx: CheckContext | None = None
    ) -> CheckResult:
        spec = MonitorSpec.model_validate({"type": type_, "timeout": timeout, type_: settings})
        return run_check(spec, ctx or make_ctx())

    return go


# ---------------------------------------------------------------- threaded servers


@pytest.fixture
def serve_http() -> Iterator[Callable[..., Served]]:
    """Start an HTTP server for a handler class, optionally with TLS; stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> Served:
        server = TlsHttpServer(("127.0.0.1", 0), handler)
        server.ssl_context = tls
        servers.append(server)
        serve_in_thread(server)
        return Served("127.0.0.1", server.server_address[1], server)

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def web(serve_http: Callable[..., Served]) -> Served:
    return serve_http(TargetHandler)


@pytest.fixture
def tls_web(serve_http: Callable[..., Served], pki: Pki) -> Callable[[str], Served]:
    """An HTTPS target presenting the named leaf certificate (mTLS when named 'mtls')."""

    def start(leaf: str) -> Served:
        if leaf == "mtls":
            return serve_http(TargetHandler, pki.server_context(pki.leaves["good"], require_client=True))
        return serve_http(TargetHandler, pki.server_context(pki.leaves[leaf]))

    return start


@pytest.fixture
def closed_port() -> int:
    return free_port()


# ---------------------------------------------------------------- plain TCP


@pytest.fixture
def tcp_server() -> Iterator[Callable[..., Served]]:
    """A TCP server: 'echo', 'banner', 'silent', 'close', 'nul' or 'chatter', optionally behind TLS."""
    servers: list[TcpServer] = []

    def start(behaviour: str, tls: ssl.SSLContext | None = None) -> Served:
        server = TcpServer(("127.0.0.1", 0), tcp_handler(behaviour))
        server.ssl_context = tls
        servers.append(server)
        serve_in_thread(server)
        return Served("127.0.0.1", server.server_address[1], server)

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


# ---------------------------------------------------------------- DNS


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.stop()


# ---------------------------------------------------------------- WebSocket


@pytest.fixture
def ws_server() -> Iterator[Callable[..., Served]]:
    servers: list[TcpServer] = []

    def start(tls: ssl.SSLContext | None = None) -> Served:
        server = TcpServer(("127.0.0.1", 0), WebsocketHandler)
        server.ssl_context = tls
        servers.append(server)
        serve_in_thread(server)
        return Served("127.0.0.1", server.server_address[1], server)

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


# ---------------------------------------------------------------- Steam A2S


@pytest.fixture
def a2s_server() -> Iterator[Callable[[str], A2sResponder]]:
    started: list[A2sResponder] = []

    def start(mode: str = "challenge") -> A2sResponder:
        r = A2sResponder(mode)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


# ---------------------------------------------------------------- Kubernetes API double


@pytest.fixture
def kube_api(serve_http: Callable[..., Served]) -> Iterator[tuple[KubeApi, Any]]:
    """The API double and a real kubernetes ApiClient pointed at it."""
    from kubernetes import client

    api = KubeApi()

    served = serve_http(kube_handler(api))
    config = client.Configuration(host=served.url)
    with client.ApiClient(config) as kube:
        yield api, kube
