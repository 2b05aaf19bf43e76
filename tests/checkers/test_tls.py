"""The tls checker against real TLS servers on 127.0.0.1, each presenting a test certificate."""

from __future__ import annotations

import pytest

from app.model import FailureClass

pytestmark = pytest.mark.timeout(30)

CASES = [
    # (id, leaf, settings, ok, failure, piece of the reason)
    ("valid", "good", {}, True, None, "certificate valid for 89 more days"),
    (
        "untrusted-without-ca",
        "good",
        {"trust": False},
        False,
        FailureClass.CERTIFICATE,
        "unable to get local issuer",
    ),
    ("expired", "expired", {}, False, FailureClass.CERTIFICATE, "certificate has expired"),
    ("expired-verify-off", "expired", {"verify": False}, False, FailureClass.CERTIFICATE, "expired on"),
    ("wrong-name", "wrong-name", {}, False, FailureClass.CERTIFICATE, "mismatch"),
    ("wrong-name-verify-off", "wrong-name", {"verify": False}, True, None, "valid for"),
    ("sni-name-matches", "good", {"serverName": "localhost"}, True, None, "valid for"),
    (
        "sni-name-mismatch",
        "good",
        {"serverName": "shop.example"},
        False,
        FailureClass.CERTIFICATE,
        "shop.example",
    ),
    ("expiring-soon-warns", "soon", {}, True, None, "certificate expires in 5 days (warning at 7)"),
    ("custom-warn-days", "soon", {"warnDays": [30, 10]}, True, None, "(warning at 10)"),
]


@pytest.mark.parametrize(
    ("leaf", "settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_tls_outcomes(run, tcp_server, pki, secrets, leaf, settings, ok, failure, reason) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    settings = dict(settings)
    srv = tcp_server("silent", pki.server_context(pki.leaves[leaf]))
    spec = {"host": srv.host, "port": srv.port, **settings}
    if spec.pop("trust", True):
        spec["caSecretRef"] = {"name": "ca", "key": "ca.crt"}
    result = run("tls", spec)
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason
    assert result.details["cert"]["issuer"] == "KubeKuma Test CA"


def test_details(run, tcp_server, pki) -> None:
    srv = tcp_server("silent", pki.server_context(pki.leaves["soon"]))
    result = run("tls", {"host": srv.host, "port": srv.port, "verify": False})
    assert result.details["protocol"] in ("TLSv1.2", "TLSv1.3")
    assert result.details["cipher"]
    cert = result.details["cert"]
    assert (cert["daysLeft"], cert["warn"], cert["hostnameMatch"]) == (5, 7, True)
    assert cert["names"] == ["localhost", "127.0.0.1"]


def test_plain_tcp_server_is_a_tls_failure(run, tcp_server) -> None:
    srv = tcp_server("banner")
    result = run("tls", {"host": srv.host, "port": srv.port})
    assert not result.ok
    assert result.failure in (FailureClass.TLS, FailureClass.RESET)
    assert f"127.0.0.1:{srv.port}" in result.reason


def test_refused(run, closed_port) -> None:
    result = run("tls", {"host": "127.0.0.1", "port": closed_port})
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)


def test_missing_ca_secret_is_config(run, tcp_server, pki) -> None:
    srv = tcp_server("silent", pki.server_context(pki.leaves["good"]))
    result = run("tls", {"host": srv.host, "port": srv.port, "caSecretRef": {"name": "nope"}})
    assert (result.ok, result.failure) == (False, FailureClass.CONFIG)
    assert "caSecretRef" in result.reason
