"""HTTP for notifiers: one request, its failure classified as permanent or transient, its text scrubbed.

Many providers carry a credential in the URL (Slack, Discord and Teams webhooks, Telegram's
bot token in the path), so error text names only the scheme and host, and any body quoted
back from the service is scrubbed of every secret the context revealed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from app.notifiers.base import NotifierError, NotifyContext

# Worth retrying: the service is busy, rate limiting, or broken for now.
TRANSIENT_STATUS = {408, 424, 425, 429}  # 424: a service behind the one we called failed


def where(url: str) -> str:
    """scheme://host[:port] of a URL: enough to say where, never a path or query that may hold a token."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    except ValueError:
        return "an invalid URL"


def snippet(ctx: NotifyContext, text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return ctx.redact(text[:limit])


def request(
    ctx: NotifyContext, what: str, method: str, url: str, *, timeout: float, json: Any = None,
    data: Any = None, headers: dict[str, str] | None = None, params: dict[str, str] | None = None,
) -> requests.Response:  # fmt: skip
    """Send one request; raise NotifierError unless the answer is 2xx."""
    if not url.startswith(("http://", "https://")):
        raise NotifierError(f"{what}: the URL must start with http:// or https://", permanent=True)
    try:
        resp = ctx.session.request(method, url, json=json, data=data, headers=headers, params=params,
                                   timeout=timeout, allow_redirects=False)  # fmt: skip
    except requests.ConnectTimeout:
        raise NotifierError(f"{what}: cannot connect to {where(url)} within {timeout:g}s") from None
    except requests.Timeout:
        raise NotifierError(f"{what}: no answer from {where(url)} within {timeout:g}s",
                            maybe_delivered=True) from None  # fmt: skip
    except requests.ConnectionError as exc:
        if never_connected(exc):
            raise NotifierError(f"{what}: cannot connect to {where(url)}") from None
        raise NotifierError(f"{what}: {where(url)} dropped the connection", maybe_delivered=True) from None
    except requests.RequestException as exc:
        raise NotifierError(f"{what}: request to {where(url)} failed ({type(exc).__name__})") from None
    check(ctx, what, url, resp)
    return resp


def never_connected(exc: requests.ConnectionError) -> bool:
    """Refused, unresolvable or unreachable: the request never left, so the message surely did not arrive."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def check(ctx: NotifyContext, what: str, url: str, resp: requests.Response) -> None:
    code = resp.status_code
    if 200 <= code < 300:
        return
    body = snippet(ctx, resp.text or "")
    detail = f"{what}: {where(url)} answered {code}" + (f": {body}" if body else "")
    if 300 <= code < 400:
        raise NotifierError(detail + " (a redirect: use the final URL)", permanent=True)
    if code >= 500 or code in TRANSIENT_STATUS:
        raise NotifierError(detail)
    if code in (401, 403):
        raise NotifierError(detail + " (check the credentials)", permanent=True)
    raise NotifierError(detail, permanent=True)
