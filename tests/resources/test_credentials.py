"""Literal credentials in specs: warned about by field, masked wherever shown."""

from __future__ import annotations

import logging

import pytest

from app.config import RedactingFilter, redact
from app.resources.credentials import redact_value, warnings_of

SPEC = {
    "type": "http",
    "http": {
        "url": "https://bob:hunter2@api.example/health",
        "proxy": "http://proxy-user:proxy-pass@proxy:3128",
        "headers": [{"name": "Authorization", "value": "Bearer tok-123"}, {"name": "Accept", "value": "*/*"}],
        "body": {"form": {"user": "bob", "password": "form-pass"}},
        "basicAuth": {"username": "bob", "passwordSecretRef": {"name": "creds", "key": "password"}},
    },
}
LITERALS = ("hunter2", "proxy-pass", "tok-123", "form-pass", "bob:")


def test_each_literal_credential_is_a_warning_naming_its_field() -> None:
    assert [w.split(":")[0] for w in warnings_of(SPEC)] == [
        "spec.http.url",
        "spec.http.proxy",
        "spec.http.headers[0].value",
        "spec.http.body.form.password",
    ]
    assert not any(secret in w for w in warnings_of(SPEC) for secret in LITERALS)


def test_references_and_plain_fields_are_no_warning() -> None:
    spec = {"http": {"url": "https://api.example/", "bearerTokenSecretRef": {"name": "t"}, "headers": []}}
    assert warnings_of(spec) == []


def test_redacted_specs_keep_their_shape_and_lose_their_credentials() -> None:
    out = redact_value(SPEC)
    text = str(out)
    assert not any(secret in text for secret in LITERALS)
    assert out["http"]["url"] == "https://***@api.example/health"
    assert out["http"]["headers"][1] == {"name": "Accept", "value": "*/*"}
    assert out["http"]["basicAuth"] == SPEC["http"]["basicAuth"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot request http://u:p@10.0.0.1:8080/x", "cannot request http://***@10.0.0.1:8080/x"),
        ("https://TOKEN@github.com/o/r.git", "https://***@github.com/o/r.git"),
        ("mail ops@example.com", "mail ops@example.com"),
        ("no url here", "no url here"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_log_lines_and_tracebacks_are_redacted() -> None:
    try:
        raise ValueError("connect to https://bob:hunter2@db/ failed")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f", 1, "GET %s", ("http://u:pw@h/",), exc_info=True)
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    line = logging.Formatter().format(record)
    assert "hunter2" not in line and "pw@" not in line and "***@db" in line
