"""The http checker against real HTTP(S) servers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from app.model import FailureClass

from .servers import SLACK_S

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

# (id, settings relative to the target, expected ok, failure, a piece of the reason)
CASES: list[tuple[str, dict[str, Any], bool, FailureClass | None, str]] = [
    ("plain-200", {"path": "/ok"}, True, None, "HTTP 200"),
    (
        "404-not-accepted",
        {"path": "/nope"},
        False,
        FailureClass.STATUS,
        "HTTP 404 Not Found (accepted: 200-299)",
    ),
    ("503", {"path": "/status/503"}, False, FailureClass.STATUS, "HTTP 503"),
    (
        "accept-range",
        {"path": "/status/404", "acceptedStatusCodes": ["200-299", "404"]},
        True,
        None,
        "HTTP 404",
    ),
    ("accept-single-code", {"path": "/status/418", "acceptedStatusCodes": ["418"]}, True, None, "HTTP 418"),
    ("redirects-followed", {"path": "/redirect/3"}, True, None, "HTTP 200"),
    (
        "too-many-redirects",
        {"path": "/redirect/5", "maxRedirects": 2},
        False,
        FailureClass.STATUS,
        "more than 2 redirects",
    ),
    (
        "redirect-not-followed",
        {"path": "/redirect/1", "followRedirects": False},
        False,
        FailureClass.STATUS,
        "HTTP 302 Found",
    ),
    (
        "redirect-accepted-as-is",
        {"path": "/redirect/1", "followRedirects": False, "acceptedStatusCodes": ["300-399"]},
        True,
        None,
        "HTTP 302",
    ),
    ("cookies-kept-across-redirects", {"path": "/cookie-set"}, True, None, "HTTP 200"),
    ("keyword-found", {"path": "/ok", "keyword": {"value": "status OK"}}, True, None, ""),
    (
        "keyword-missing",
        {"path": "/ok", "keyword": {"value": "banana"}},
        False,
        FailureClass.KEYWORD,
        "keyword 'banana' not found in: 'all good: status OK'",
    ),
    (
        "keyword-case-sensitive",
        {"path": "/ok", "keyword": {"value": "STATUS ok"}},
        False,
        FailureClass.KEYWORD,
        "not found",
    ),
    (
        "keyword-case-insensitive",
        {"path": "/ok", "keyword": {"value": "STATUS ok", "caseSensitive": False}},
        True,
        None,
        "",
    ),
    (
        "keyword-inverted-present",
        {"path": "/ok", "keyword": {"value": "good", "invert": True}},
        False,
        FailureClass.KEYWORD,
        "keyword 'good' found, and it must not be",
    ),
    (
        "keyword-inverted-absent",
        {"path": "/ok", "keyword": {"value": "error", "invert": True}},
        True,
        None,
        "",
    ),
    ("keyword-after-redirect", {"path": "/redirect/2", "keyword": {"value": "landed"}}, True, None, ""),
    (
        "status-checked-before-keyword",
        {"path": "/status/500", "keyword": {"value": "500"}},
        False,
        FailureClass.STATUS,
        "",
    ),
    ("json-equal", {"path": "/json", "jsonQuery": {"path": "$.status", "expected": "ok"}}, True, None, ""),
    (
        "json-not-equal",
        {"path": "/json", "jsonQuery": {"path": "$.status", "expected": "down"}},
        False,
        FailureClass.JSON,
        "$.status is 'ok', expected == 'down'",
    ),
    (
        "json-number-as-text",
        {"path": "/json", "jsonQuery": {"path": "$.count", "expected": "3"}},
        True,
        None,
        "",
    ),
    ("json-bool", {"path": "/json", "jsonQuery": {"path": "$.healthy", "expected": True}}, True, None, ""),
    (
        "json-lt",
        {"path": "/json", "jsonQuery": {"path": "$.load", "operator": "<", "expected": 0.9}},
        True,
        None,
        "",
    ),
    (
        "json-gt-fails",
        {"path": "/json", "jsonQuery": {"path": "$.load", "operator": ">", "expected": 1}},
        False,
        FailureClass.JSON,
        "expected > '1'",
    ),
    (
        "json-ge",
        {"path": "/json", "jsonQuery": {"path": "$.count", "operator": ">=", "expected": 3}},
        True,
        None,
        "",
    ),
    (
        "json-le",
        {"path": "/json", "jsonQuery": {"path": "$.count", "operator": "<=", "expected": 2}},
        False,
        FailureClass.JSON,
        "",
    ),
    (
        "json-ne",
        {"path": "/json", "jsonQuery": {"path": "$.status", "operator": "!=", "expected": "down"}},
        True,
        None,
        "",
    ),
    (
        "json-contains-list",
        {"path": "/json", "jsonQuery": {"path": "$.tags", "operator": "contains", "expected": "prod"}},
        True,
        None,
        "",
    ),
    (
        "json-contains-string",
        {"path": "/json", "jsonQuery": {"path": "$.status", "operator": "contains", "expected": "k"}},
        True,
        None,
        "",
    ),
    (
        "json-filter",
        {"path": "/json", "jsonQuery": {"path": "$.items[?(@.name == 'b')].up", "expected": False}},
        True,
        None,
        "",
    ),
    (
        "json-no-match",
        {"path": "/json", "jsonQuery": {"path": "$.missing", "expected": 1}},
        False,
        FailureClass.JSON,
        "$.missing matched nothing",
    ),
    (
        "json-not-json",
        {"path": "/html", "jsonQuery": {"path": "$.a", "expected": 1}},
        False,
        FailureClass.JSON,
        "response is not JSON",
    ),
    (
        "json-not-orderable",
        {"path": "/json", "jsonQuery": {"path": "$.status", "operator": ">", "expected": 1}},
        False,
        FailureClass.JSON,
        "not comparable",
    ),
    (
        "json-bad-path",
        {"path": "/json", "jsonQuery": {"path": "$[?(", "expected": 1}},
        False,
        FailureClass.CONFIG,
        "is not a JSONPath",
    ),
    ("head-method", {"path": "/ok", "method": "HEAD"}, True, None, "HTTP 200"),
    ("big-body-keyword-at-end", {"path": "/big?n=200000", "keyword": {"value": "needle"}}, True, None, ""),
    (
        "body-cap-hides-keyword",
        {"path": "/big?n=200000", "keyword": {"value": "needle"}, "maxBodyBytes": 1000},
        False,
        FailureClass.KEYWORD,
        "not found",
    ),
    (
        "body-cap-and-json",
        {"path": "/json", "jsonQuery": {"path": "$.status", "expected": "ok"}, "maxBodyBytes": 10},
        False,
        FailureClass.JSON,
        "larger than maxBodyBytes (10)",
    ),
    ("utf8-without-charset", {"path": "/greeting", "keyword": {"value": "Grüße"}}, True, None, ""),
    ("latin1-declared", {"path": "/greeting?charset=latin-1", "keyword": {"value": "Köln"}}, True, None, ""),
    ("unknown-charset", {"path": "/greeting?charset=klingon", "keyword": {"value": "Köln"}}, True, None, ""),
    ("reset-by-peer", {"path": "/reset"}, False, FailureClass.RESET, ""),
]


@pytest.mark.parametrize(
    ("settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_http_outcomes(run, web, settings, ok, failure, reason) -> None:
    settings = dict(settings)
    result = run("http", {"url": web.url + settings.pop("path"), **settings})
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason
    assert result.latency_ms is not None and result.latency_ms >= 0


def test_details_show_status_url_and_timing(run, web) -> None:
    result = run("http", {"url": web.url + "/redirect/2"})
    assert result.details["statusCode"] == 200
    assert result.details["url"].endswith("/redirect/0")
    assert result.details["redirects"] == 2
    assert result.details["timing"]["headersMs"] <= result.details["timing"]["totalMs"]
    assert "cert" not in result.details  # plain http has none


def test_truncated_body_is_reported(run, web) -> None:
    result = run("http", {"url": web.url + "/big?n=5000", "maxBodyBytes": 100})
    assert result.ok
    assert result.details["bodyBytes"] == 100
    assert result.details["bodyTruncated"] is True


@pytest.mark.parametrize(
    ("method", "body", "seen_body", "content_type"),
    [
        ("POST", {"json": {"ping": True}}, '{"ping": true}', "application/json"),
        ("PUT", {"text": "hello there"}, "hello there", None),
        ("PATCH", {"form": {"a": "1", "b": "two"}}, "a=1&b=two", "application/x-www-form-urlencoded"),
        ("DELETE", None, "", None),
        ("OPTIONS", None, "", None),
    ],
    ids=["post-json", "put-text", "patch-form", "delete", "options"],
)
def test_methods_and_bodies_reach_the_server(run, web, method, body, seen_body, content_type) -> None:
    base: dict[str, Any] = {"url": web.url + "/echo", "method": method}
    if body is not None:
        base["body"] = body
    # The echo route answers with what it received; each query asserts one part of it.
    queries = [{"path": "$.method", "expected": method}, {"path": "$.body", "expected": seen_body}]
    if content_type:
        queries.append(
            {"path": "$.headers['content-type']", "operator": "contains", "expected": content_type}
        )
    for query in queries:
        result = run("http", {**base, "jsonQuery": query})
        assert result.ok, result.reason


def test_headers_and_body_values_come_from_secrets(run, web, secrets, make_ctx) -> None:
    secrets["api"] = {"token": "t0k", "password": "hunter2", "payload": '{"from": "secret"}'}
    ref = {"secretKeyRef": {"name": "api", "key": "token"}}
    result = run(
        "http",
        {
            "url": web.url + "/echo",
            "method": "POST",
            "headers": [{"name": "X-Token", "valueFrom": ref}, {"name": "X-Plain", "value": "p"}],
            "body": {
                "form": {"user": "alice"},
                "formFrom": [
                    {"name": "pw", "valueFrom": {"secretKeyRef": {"name": "api", "key": "password"}}}
                ],
            },
            "jsonQuery": {"path": "$.body", "expected": "user=alice&pw=hunter2"},
        },
    )
    assert result.ok, result.reason
    for check in (
        {"path": "$.headers['x-token']", "expected": "t0k"},
        {"path": "$.headers['x-plain']", "expected": "p"},
        {"path": "$.headers['user-agent']", "operator": "contains", "expected": "KubeKuma"},
    ):
        result = run(
            "http",
            {
                "url": web.url + "/echo",
                "headers": [{"name": "X-Token", "valueFrom": ref}, {"name": "X-Plain", "value": "p"}],
                "jsonQuery": check,
            },
        )
        assert result.ok, result.reason
    whole = run(
        "http",
        {
            "url": web.url + "/echo",
            "method": "POST",
            "body": {"valueFrom": {"secretKeyRef": {"name": "api", "key": "payload"}}},
            "jsonQuery": {"path": "$.body", "expected": '{"from": "secret"}'},
        },
    )
    assert whole.ok, whole.reason


def test_missing_secret_is_a_config_failure_not_an_outage(run, web) -> None:
    result = run(
        "http",
        {
            "url": web.url + "/ok",
            "headers": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "k"}}}],
        },
    )
    assert (result.ok, result.failure) == (False, FailureClass.CONFIG)
    assert "header X" in result.reason and "gone" in result.reason


@pytest.mark.parametrize(
    ("auth", "path", "ok"),
    [
        (
            {"basicAuth": {"username": "alice", "passwordSecretRef": {"name": "creds", "key": "password"}}},
            "/basic",
            True,
        ),
        (
            {"basicAuth": {"username": "alice", "passwordSecretRef": {"name": "creds", "key": "wrong"}}},
            "/basic",
            False,
        ),
        ({}, "/basic", False),
        ({"bearerTokenSecretRef": {"name": "creds", "key": "token"}}, "/bearer", True),
        ({"bearerTokenSecretRef": {"name": "creds", "key": "wrong"}}, "/bearer", False),
    ],
    ids=["basic-ok", "basic-wrong-password", "basic-missing", "bearer-ok", "bearer-wrong"],
)
def test_auth(run, web, secrets, auth, path, ok) -> None:
    secrets["creds"] = {"password": "s3cret", "token": "tok-123", "wrong": "nope"}
    result = run("http", {"url": web.url + path, **auth})
    assert result.ok is ok, result.reason
    if not ok:
        assert result.failure is FailureClass.STATUS and "HTTP 401" in result.reason


@pytest.mark.parametrize(
    "auth",
    [
        {"bearerTokenSecretRef": {"name": "creds", "key": "token"}},
        {"headers": [{"name": "authorization", "value": "Bearer tok-123"}]},
    ],
    ids=["bearer-token", "lowercase-header"],
)
def test_credentials_are_not_sent_to_another_host(run, web, secrets, auth) -> None:
    secrets["creds"] = {"token": "tok-123"}
    direct = run("http", {"url": f"{web.url}/bearer", **auth})
    assert direct.ok, direct.reason
    # 127.0.0.1 redirects to localhost: same server, another host name, so the token stays behind.
    target = f"http://localhost:{web.port}/bearer"
    result = run("http", {"url": f"{web.url}/redirect-to?url={target}", **auth})
    assert (result.ok, result.failure) == (False, FailureClass.STATUS)
    assert "HTTP 401" in result.reason


def test_303_turns_post_into_get(run, web) -> None:
    result = run(
        "http",
        {
            "url": f"{web.url}/redirect-to?code=303&url=/echo",
            "method": "POST",
            "body": {"text": "x"},
            "jsonQuery": {"path": "$.method", "expected": "GET"},
        },
    )
    assert result.ok, result.reason


def test_307_keeps_method_and_body(run, web) -> None:
    result = run(
        "http",
        {
            "url": f"{web.url}/redirect-to?code=307&url=/echo",
            "method": "PUT",
            "body": {"text": "kept"},
            "jsonQuery": {"path": "$.body", "expected": "kept"},
        },
    )
    assert result.ok, result.reason


def test_proxy_is_used(run, web) -> None:
    result = run(
        "http",
        {
            "url": "http://upstream.invalid/health",
            "proxy": web.url,
            "keyword": {"value": "proxied http://upstream.invalid/health"},
        },
    )
    assert result.ok, result.reason


def test_refused(run, closed_port) -> None:
    result = run("http", {"url": f"http://127.0.0.1:{closed_port}/"})
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)
    assert f"127.0.0.1:{closed_port} refused" in result.reason


def test_unresolvable_name(run) -> None:
    result = run("http", {"url": "http://no-such-host.invalid/"})
    assert (result.ok, result.failure) == (False, FailureClass.DNS)
    assert "no-such-host.invalid" in result.reason


@pytest.mark.parametrize(
    ("behaviour", "failure", "reason"),
    [
        ("hangup", FailureClass.RESET, "closed the connection without answering"),
        ("banner", FailureClass.PROTOCOL, "sent a response we cannot read"),
    ],
    ids=["hangs-up", "not-http"],
)
def test_servers_that_do_not_speak_http(run, tcp_server, behaviour, failure, reason) -> None:
    srv = tcp_server(behaviour)
    result = run("http", {"url": f"http://{srv.host}:{srv.port}/"})
    assert (result.ok, result.failure) == (False, failure), result.reason
    assert reason in result.reason


def test_slow_server_times_out_within_the_timeout(run, web) -> None:
    start = time.perf_counter()
    result = run("http", {"url": web.url + "/slow?s=3"}, timeout="1s")
    took = time.perf_counter() - start
    assert (result.ok, result.failure) == (False, FailureClass.TIMEOUT)
    assert "did not answer in time" in result.reason
    assert took < 1 + SLACK_S


def test_dripping_body_cannot_outlive_the_timeout(run, web) -> None:
    # Each byte arrives well within a socket timeout; only the overall deadline ends this.
    start = time.perf_counter()
    result = run("http", {"url": web.url + "/drip"}, timeout="1s")
    took = time.perf_counter() - start
    assert (result.ok, result.failure) == (False, FailureClass.TIMEOUT)
    assert "1s" in result.reason
    assert took < 1 + SLACK_S


def test_works_with_a_shared_session(run, web, make_ctx) -> None:
    with requests.Session() as session:
        ctx = make_ctx(session=session)
        results = [run("http", {"url": web.url + "/ok"}, ctx=ctx) for _ in range(3)]
        assert all(r.ok for r in results)
        assert len(session.cookies) == 0  # nothing leaks into the shared session


# ---------------------------------------------------------------- https


def test_https_records_the_certificate(run, tls_web, pki, secrets) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    srv = tls_web("good")
    result = run("http", {"url": srv.https + "/ok", "tls": {"caSecretRef": {"name": "ca", "key": "ca.crt"}}})
    assert result.ok, result.reason
    cert = result.details["cert"]
    assert cert["subject"] == "localhost"
    assert cert["issuer"] == "KubeKuma Test CA"
    assert cert["hostnameMatch"] is True
    assert cert["daysLeft"] in (89, 90)
    assert cert["expiresAt"].endswith("Z")
    assert "warn" not in cert


def test_https_untrusted_ca_is_a_certificate_failure(run, tls_web) -> None:
    result = run("http", {"url": tls_web("good").https + "/ok"})
    assert (result.ok, result.failure) == (False, FailureClass.CERTIFICATE)
    assert "unable to get local issuer certificate" in result.reason
    assert result.details["cert"]["issuer"] == "KubeKuma Test CA"  # what the server showed


def test_https_expired_is_down_with_verify(run, tls_web, pki, secrets) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    result = run(
        "http",
        {"url": tls_web("expired").https + "/ok", "tls": {"caSecretRef": {"name": "ca", "key": "ca.crt"}}},
    )
    assert (result.ok, result.failure) == (False, FailureClass.CERTIFICATE)
    assert "certificate has expired" in result.reason
    assert result.details["cert"]["expired"] is True
    assert result.details["cert"]["daysLeft"] < 0


def test_https_wrong_hostname_is_down_with_verify(run, tls_web, pki, secrets) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    result = run(
        "http",
        {"url": tls_web("wrong-name").https + "/ok", "tls": {"caSecretRef": {"name": "ca", "key": "ca.crt"}}},
    )
    assert (result.ok, result.failure) == (False, FailureClass.CERTIFICATE)
    assert "mismatch" in result.reason.lower() or "match" in result.reason.lower()
    assert result.details["cert"]["hostnameMatch"] is False


@pytest.mark.parametrize("leaf", ["expired", "wrong-name"])
def test_https_verify_off_stays_up_but_shows_the_problem(run, tls_web, leaf) -> None:
    result = run("http", {"url": tls_web(leaf).https + "/ok", "tls": {"verify": False}})
    assert result.ok, result.reason
    cert = result.details["cert"]
    assert cert["expired"] is (leaf == "expired")
    assert cert["hostnameMatch"] is (leaf != "wrong-name")


@pytest.mark.parametrize(
    ("warn_days", "expected"), [([14, 7, 1], 7), ([30], 30), ([3, 1], None)], ids=["7", "30", "none"]
)
def test_certificate_expiry_warning(run, tls_web, warn_days, expected) -> None:
    result = run(
        "http",
        {
            "url": tls_web("soon").https + "/ok",
            "tls": {"verify": False},
            "certificateExpiry": {"warnDays": warn_days},
        },
    )
    assert result.ok, result.reason  # a warning never makes the check DOWN
    assert result.details["cert"]["daysLeft"] == 5
    assert result.details["cert"].get("warn") == expected


def test_mtls_client_certificate_from_secret(run, tls_web, pki, secrets) -> None:
    client = pki.leaves["client"]
    secrets["mtls"] = {"tls.crt": client.cert_pem, "tls.key": client.key_pem, "ca.crt": pki.ca_pem}
    srv = tls_web("mtls")
    tls = {
        "caSecretRef": {"name": "mtls", "key": "ca.crt"},
        "clientCertSecretRef": {"name": "mtls", "key": "tls.crt"},
        "clientKeySecretRef": {"name": "mtls", "key": "tls.key"},
    }
    result = run(
        "http",
        {
            "url": srv.https + "/echo",
            "tls": tls,
            "jsonQuery": {"path": "$.client", "expected": "kubekuma-client"},
        },
    )
    assert result.ok, result.reason
    without = run("http", {"url": srv.https + "/echo", "tls": {"caSecretRef": tls["caSecretRef"]}})
    assert not without.ok
    assert without.failure in (FailureClass.TLS, FailureClass.RESET, FailureClass.PROTOCOL), without.reason


def test_mtls_with_a_broken_pem_is_a_config_failure(run, tls_web, secrets) -> None:
    secrets["mtls"] = {"tls.crt": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"}
    result = run(
        "http",
        {
            "url": tls_web("mtls").https + "/ok",
            "tls": {"clientCertSecretRef": {"name": "mtls", "key": "tls.crt"}},
        },
    )
    assert (result.ok, result.failure) == (False, FailureClass.CONFIG)
    assert "clientCertSecretRef" in result.reason


def test_plain_http_to_a_tls_port_is_a_protocol_or_reset_failure(run, tls_web) -> None:
    srv = tls_web("good")
    result = run("http", {"url": srv.url + "/ok"})
    assert not result.ok
    assert result.failure in (FailureClass.PROTOCOL, FailureClass.RESET, FailureClass.TIMEOUT), result.reason


def test_details_are_json_serializable(run, tls_web) -> None:
    result = run(
        "http",
        {
            "url": tls_web("good").https + "/json",
            "tls": {"verify": False},
            "jsonQuery": {"path": "$.items", "operator": "contains", "expected": {"name": "a", "up": True}},
        },
    )
    assert result.ok, result.reason
    json.dumps(result.details)


def test_timing_breakdown_of_new_and_reused_connections(run, make_ctx, web) -> None:
    import requests

    from app.checkers.timing import HTTP_PHASES

    before = HTTP_PHASES.snapshot()["dns"][1]
    with requests.Session() as session:
        ctx = make_ctx(session=session)
        first = run("http", {"url": web.url + "/"}, ctx=ctx).details["timing"]
        assert {"dnsMs", "connectMs", "firstByteMs", "totalMs"} <= first.keys() and "tlsMs" not in first
        assert first["dnsMs"] + first["connectMs"] + first["firstByteMs"] <= first["totalMs"] + 1
        again = run("http", {"url": web.url + "/"}, ctx=ctx).details["timing"]
        assert again["reusedConnection"] is True and "connectMs" not in again
    assert HTTP_PHASES.snapshot()["dns"][1] == before + 1
    assert HTTP_PHASES.snapshot()["total"][1] >= 2


def test_timing_has_the_tls_handshake(run, make_ctx, tls_web, pki, secrets) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    srv = tls_web("good")
    result = run("http", {"url": srv.https + "/ok", "tls": {"caSecretRef": {"name": "ca", "key": "ca.crt"}}})
    assert result.ok, result.reason
    assert result.details["timing"]["tlsMs"] > 0
