"""The grpc checker against real gRPC servers (grpcio) serving grpc.health.v1, plain and over TLS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from app.model import FailureClass

from .servers import Pki

pytestmark = pytest.mark.timeout(30)


class Started:
    def __init__(self, server: grpc.Server, port: int, health: health.HealthServicer) -> None:
        self.server, self.port, self.health = server, port, health


@pytest.fixture
def grpc_server(pki: Pki) -> Iterator[Callable[..., Started]]:
    """A gRPC server with the health service ('' and 'shop.Checkout' SERVING, 'shop.Search' NOT_SERVING)."""
    started: list[grpc.Server] = []

    def start(tls_leaf: str | None = None, with_health: bool = True) -> Started:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        servicer = health.HealthServicer()
        if with_health:
            health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
            servicer.set("", health_pb2.HealthCheckResponse.SERVING)
            servicer.set("shop.Checkout", health_pb2.HealthCheckResponse.SERVING)
            servicer.set("shop.Search", health_pb2.HealthCheckResponse.NOT_SERVING)
        if tls_leaf:
            leaf = pki.leaves[tls_leaf]
            creds = grpc.ssl_server_credentials([(leaf.key_pem.encode(), leaf.cert_pem.encode())])
            port = server.add_secure_port("127.0.0.1:0", creds)
        else:
            port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        started.append(server)
        return Started(server, port, servicer)

    yield start
    for s in started:
        s.stop(None)


def test_serving_and_not(run, grpc_server) -> None:
    srv = grpc_server()
    base = {"host": "127.0.0.1", "port": srv.port}
    whole = run("grpc", base)
    assert whole.ok and whole.reason.endswith(f"the server on 127.0.0.1:{srv.port} is SERVING")
    assert run("grpc", {**base, "service": "shop.Checkout"}).ok
    search = run("grpc", {**base, "service": "shop.Search"})
    assert search.failure is FailureClass.MISMATCH and "is NOT_SERVING" in search.reason
    unknown = run("grpc", {**base, "service": "shop.Nothing"})
    assert unknown.failure is FailureClass.MISMATCH and "no such service" in unknown.reason


def test_no_health_service(run, grpc_server) -> None:
    srv = grpc_server(with_health=False)
    result = run("grpc", {"host": "127.0.0.1", "port": srv.port})
    assert result.failure is FailureClass.PROTOCOL and "does not implement grpc.health.v1" in result.reason


def test_tls(run, grpc_server, pki, secrets) -> None:
    srv = grpc_server(tls_leaf="good")
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    trusted = {
        "host": "127.0.0.1",
        "port": srv.port,
        "tls": True,
        "caSecretRef": {"name": "ca", "key": "ca.crt"},
    }
    ok = run("grpc", trusted)
    assert ok.ok, ok.reason
    untrusted = run("grpc", {"host": "127.0.0.1", "port": srv.port, "tls": True})
    assert untrusted.failure in (FailureClass.CERTIFICATE, FailureClass.TLS), untrusted.reason
    plain_to_tls = run("grpc", {"host": "127.0.0.1", "port": srv.port})
    assert not plain_to_tls.ok and plain_to_tls.failure is not FailureClass.ERROR, plain_to_tls.reason


def test_refused_and_silent(run, closed_port, tcp_server) -> None:
    refused = run("grpc", {"host": "127.0.0.1", "port": closed_port})
    assert refused.failure is FailureClass.REFUSED, refused.reason
    silent = tcp_server("silent")
    hung = run("grpc", {"host": "127.0.0.1", "port": silent.port}, timeout="0.5s")
    assert hung.failure is FailureClass.TIMEOUT and hung.latency_ms < 1500, hung.reason
