"""The dns checker against a real DNS server (UDP and TCP) on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from app.model import FailureClass

from .servers import SLACK_S

pytestmark = pytest.mark.timeout(30)

CASES = [
    # (id, name, type, extra settings, ok, failure, piece of the reason)
    (
        "a-any",
        "www.test",
        "A",
        {"expected": ["192.0.2.11"]},
        True,
        None,
        "www.test A: 192.0.2.10, 192.0.2.11",
    ),
    ("a-all", "www.test", "A", {"expected": ["192.0.2.10", "192.0.2.11"], "match": "all"}, True, None, ""),
    (
        "a-all-missing-one",
        "www.test",
        "A",
        {"expected": ["192.0.2.10", "192.0.2.99"], "match": "all"},
        False,
        FailureClass.MISMATCH,
        "expected all of 192.0.2.10, 192.0.2.99 (missing 192.0.2.99)",
    ),
    (
        "a-any-none",
        "www.test",
        "A",
        {"expected": ["198.51.100.1"]},
        False,
        FailureClass.MISMATCH,
        "got 192.0.2.10, 192.0.2.11; expected one of 198.51.100.1",
    ),
    ("a-no-expectation", "www.test", "A", {}, True, None, ""),
    ("aaaa-normalized", "www.test", "AAAA", {"expected": ["2001:0db8:0:0::10"]}, True, None, "2001:db8::10"),
    ("cname", "alias.test", "CNAME", {"expected": ["www.test"]}, True, None, "www.test"),
    ("a-through-cname", "alias.test", "A", {"expected": ["192.0.2.10"]}, True, None, ""),
    ("mx-exchange", "test", "MX", {"expected": ["mail.test"]}, True, None, ""),
    ("mx-full", "test", "MX", {"expected": ["20 backup.test."]}, True, None, ""),
    ("txt", "test", "TXT", {"expected": ["v=spf1 -all"]}, True, None, ""),
    ("txt-case-sensitive", "test", "TXT", {"expected": ["hello world"]}, False, FailureClass.MISMATCH, ""),
    ("ns", "test", "NS", {"expected": ["ns2.test"], "match": "any"}, True, None, ""),
    ("srv-target-port", "_sip._tcp.test", "SRV", {"expected": ["sip.test:5060"]}, True, None, ""),
    ("caa", "test", "CAA", {"expected": ["issue letsencrypt.org"]}, True, None, ""),
    ("soa-mname", "test", "SOA", {"expected": ["ns1.test"]}, True, None, ""),
    ("ptr-from-ip", "192.0.2.10", "PTR", {"expected": ["www.test"]}, True, None, ""),
    ("mixed-case-name", "WWW.Test", "A", {}, True, None, ""),
    ("nxdomain", "nx.test", "A", {}, False, FailureClass.DNS, "nx.test A: NXDOMAIN (expected NOERROR)"),
    ("nxdomain-expected", "nx.test", "A", {"expectedRcode": "NXDOMAIN"}, True, None, "NXDOMAIN as expected"),
    ("servfail", "fail.test", "A", {}, False, FailureClass.DNS, "SERVFAIL"),
    (
        "noerror-when-nxdomain-expected",
        "www.test",
        "A",
        {"expectedRcode": "NXDOMAIN"},
        False,
        FailureClass.MISMATCH,
        "NOERROR (expected NXDOMAIN)",
    ),
    ("nodata", "empty.test", "A", {}, False, FailureClass.MISMATCH, "empty.test A: no A records"),
]


@pytest.mark.parametrize(
    ("name", "rtype", "extra", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_dns_outcomes(run, dns_server, name, rtype, extra, ok, failure, reason) -> None:
    settings = {"name": name, "recordType": rtype, "server": "127.0.0.1", "port": dns_server.port, **extra}
    result = run("dns", settings)
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason
    assert result.details["server"] == f"127.0.0.1:{dns_server.port}"


def test_details(run, dns_server) -> None:
    result = run("dns", {"name": "www.test", "server": "127.0.0.1", "port": dns_server.port})
    assert result.details["answers"] == ["192.0.2.10", "192.0.2.11"]
    assert result.details["rcode"] == "NOERROR"
    assert result.details["ttl"] == 300
    assert result.details["transport"] == "udp"
    assert result.details["authoritative"] is True


def test_truncated_udp_answer_is_retried_over_tcp(run, dns_server) -> None:
    dns_server.queries.clear()
    result = run(
        "dns",
        {
            "name": "big.test",
            "recordType": "TXT",
            "server": "127.0.0.1",
            "port": dns_server.port,
            "expected": ["record-19-" + "x" * 60],
        },
    )
    assert result.ok, result.reason
    assert result.details["transport"] == "tcp"
    assert result.details["truncated"] is True
    assert [q[0] for q in dns_server.queries] == ["udp", "tcp"]


def test_tcp_transport(run, dns_server) -> None:
    dns_server.queries.clear()
    result = run(
        "dns", {"name": "www.test", "server": "127.0.0.1", "port": dns_server.port, "transport": "tcp"}
    )
    assert result.ok, result.reason
    assert result.details["transport"] == "tcp"
    assert "truncated" not in result.details
    assert [q[0] for q in dns_server.queries] == ["tcp"]


def test_unanswered_query_times_out_on_time(run, dns_server) -> None:
    start = time.perf_counter()
    result = run("dns", {"name": "slow.test", "server": "127.0.0.1", "port": dns_server.port}, timeout="0.5s")
    assert (result.ok, result.failure) == (False, FailureClass.TIMEOUT)
    assert f"127.0.0.1:{dns_server.port} did not answer in time" in result.reason
    assert time.perf_counter() - start < 0.5 + SLACK_S


def test_tcp_refused(run, closed_port) -> None:
    result = run("dns", {"name": "www.test", "server": "127.0.0.1", "port": closed_port, "transport": "tcp"})
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)


def test_invalid_name_is_config(run, dns_server) -> None:
    result = run("dns", {"name": "a..b", "server": "127.0.0.1", "port": dns_server.port})
    assert (result.ok, result.failure) == (False, FailureClass.CONFIG)
    assert "not a valid DNS name" in result.reason
