"""SMTP against a real aiosmtpd server on 127.0.0.1: plain, login, STARTTLS, refusals, and the probe."""

from __future__ import annotations

import datetime as dt
import email
import socket
import ssl
from collections.abc import Iterator
from email.message import Message as Mail
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.notifiers import NotifierError, notifier
from app.notifiers.smtp import SmtpSettings, build_mail
from tests.notifiers.conftest import SECRET, context, message, ref

N = notifier("smtp")


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Mail]] = []
        self.refuse: str | None = None  # an SMTP reply to RCPT, e.g. "550 no such user"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(tmp: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp / "c.pem", tmp / "k.pem")
    return ctx


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"kuma" and data.password == SECRET.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Inbox, int]]:
    kind = getattr(request, "param", "plain")
    inbox, port = Inbox(), free_port()
    kwargs: dict[str, Any] = {}
    if kind in ("login", "starttls"):
        kwargs.update(authenticator=check_login, auth_require_tls=kind == "starttls")
    if kind == "starttls":
        kwargs["tls_context"] = self_signed(tmp_path)
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    ctl.start()
    yield inbox, port
    ctl.stop()


def settings(port: int, **extra: Any) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from": "KubeKuma <kuma@example.com>",
            "to": ["oncall@example.com"],
            "timeout": "5s",
            **extra,
        }
    )


def test_build_mail() -> None:
    mail = build_mail(
        message(title="[KubeKuma] DOWN: shop/checkout\nx"), settings(25, cc=["boss@example.com"])
    )
    assert mail["Subject"] == "[KubeKuma] DOWN: shop/checkout x"
    assert mail["To"] == "oncall@example.com" and mail["Cc"] == "boss@example.com"
    assert mail["X-KubeKuma-Delivery"] == "i:1:down/7" and "HTTP 500 <oops>" in mail.get_content()


def test_plain_delivery(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    N.send(message(), settings(port, cc=["boss@example.com"]), context())
    ((rcpts, mail),) = inbox.mails
    assert rcpts == ["oncall@example.com", "boss@example.com"]
    assert mail["Subject"] == "checkout is DOWN" and mail["From"] == "KubeKuma <kuma@example.com>"
    assert N.probe(settings(port), context()) is True and len(inbox.mails) == 1  # the probe sends nothing


@pytest.mark.parametrize("smtp_server", ["login"], indirect=True)
def test_login(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    s = settings(port, username="kuma", passwordSecretRef=ref("password"))
    N.send(message(), s, context(password=SECRET))
    assert len(inbox.mails) == 1
    with pytest.raises(NotifierError) as err:
        N.send(message(), s, context(password="wrong-password"))
    assert err.value.permanent and "refused the login" in str(err.value)
    assert "wrong-password" not in str(err.value)


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_starttls(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    s = settings(port, security="starttls", username="kuma", passwordSecretRef=ref("password"))
    with pytest.raises(NotifierError) as err:  # a self-signed certificate is not trusted...
        N.send(message(), s, context(password=SECRET))
    assert err.value.permanent and "certificate not trusted" in str(err.value)
    N.send(message(), s.model_copy(update={"tlsVerify": False}), context(password=SECRET))  # ...unless told
    assert len(inbox.mails) == 1


def test_starttls_not_offered_is_permanent(smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(port, security="starttls"), context())
    assert err.value.permanent and "set security to tls or none" in str(err.value)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("550 5.1.1 no such user", True), ("451 4.3.0 try again later", False)],
    ids=["unknown-recipient-is-permanent", "try-later-is-transient"],
)
def test_refused_recipient(smtp_server: tuple[Inbox, int], reply: str, permanent: bool) -> None:
    inbox, port = smtp_server
    inbox.refuse = reply
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(port), context())
    assert err.value.permanent is permanent and "refused the recipients oncall@example.com" in str(err.value)


def test_nothing_listening_is_transient() -> None:
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(free_port()), context())
    assert not err.value.permanent and "127.0.0.1" in str(err.value)
