"""SMTP: a plain-text mail through a relay, with STARTTLS, implicit TLS or neither.

Failures are classified by what a retry can change: a refused login, sender or recipient
(a 5xx reply) is permanent; a connection that fails, drops or times out, or a 4xx reply
("try again later"), is transient. The probe connects, says EHLO, secures the session,
logs in when credentials are set and sends NOOP: no mail goes out.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.resources.common import SecretKeyRef


class SmtpSettings(Settings):
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="tls = implicit TLS (port 465)"
    )
    tlsVerify: bool = True
    username: str | None = None
    passwordSecretRef: SecretKeyRef | None = None
    from_: str = Field(
        alias="from", min_length=3, description="sender address, e.g. KubeKuma <kuma@example.com>"
    )
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)


def build_mail(msg: Message, s: SmtpSettings) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = msg.title.replace("\n", " ")[:900]
    mail["From"] = s.from_
    mail["To"] = ", ".join(s.to)
    if s.cc:
        mail["Cc"] = ", ".join(s.cc)
    mail["Date"] = formatdate(msg.time.timestamp(), usegmt=True)
    mail["Message-ID"] = make_msgid(domain="kubekuma.local")
    mail["X-KubeKuma-Event"] = msg.event
    mail["X-KubeKuma-Delivery"] = msg.key
    mail.set_content(msg.body or msg.title)
    return mail


def _error(ctx: NotifyContext, s: SmtpSettings, exc: Exception) -> NotifierError:
    where = f"{s.host}:{s.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return NotifierError(f"smtp: {where} refused the login (check username and password)", permanent=True)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return NotifierError(f"smtp: {where}: {exc} (set security to tls or none)", permanent=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        permanent = all(c >= 500 for c in codes)
        return NotifierError(f"smtp: {where} refused the recipients {', '.join(exc.recipients)}", permanent)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return NotifierError(f"smtp: {where} answered {exc.smtp_code}: {ctx.redact(text)[:200]}",
                             permanent=exc.smtp_code >= 500)  # fmt: skip
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NotifierError(f"smtp: {where}: certificate not trusted ({exc.verify_message})", permanent=True)
    if isinstance(exc, TimeoutError):
        return NotifierError(f"smtp: no answer from {where} within {s.timeout:g}s", maybe_delivered=True)
    return NotifierError(f"smtp: {where}: {type(exc).__name__}: {ctx.redact(str(exc))[:200]}")


@register
class SmtpNotifier(Notifier[SmtpSettings]):
    type = "smtp"
    settings_model = SmtpSettings
    style = "mail"

    def _session(self, s: SmtpSettings, ctx: NotifyContext) -> smtplib.SMTP:
        password = ctx.optional_secret(s.passwordSecretRef, "spec.smtp.passwordSecretRef")
        tls = ssl.create_default_context()
        if not s.tlsVerify:
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        if s.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=tls)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.security == "starttls":
                conn.starttls(context=tls)
                conn.ehlo()
            if s.username and password is not None:
                conn.login(s.username, password)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, msg: Message, s: SmtpSettings, ctx: NotifyContext) -> None:
        mail = build_mail(msg, s)
        try:
            conn = self._session(s, ctx)
            try:
                conn.send_message(mail, to_addrs=[*s.to, *s.cc])
            finally:
                _quit(conn)
        except (smtplib.SMTPException, OSError) as exc:
            raise _error(ctx, s, exc) from None

    def probe(self, s: SmtpSettings, ctx: NotifyContext) -> bool:
        try:
            conn = self._session(s, ctx)
            try:
                code, _ = conn.noop()
                if code != 250:
                    raise NotifierError(f"smtp: {s.host}:{s.port} answered NOOP with {code}")
            finally:
                _quit(conn)
        except (smtplib.SMTPException, OSError) as exc:
            raise _error(ctx, s, exc) from None
        return True


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
