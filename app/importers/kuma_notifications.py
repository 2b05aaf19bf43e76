"""Uptime Kuma notification configs (the JSON in `notification.config`) as provider settings.

Each mapper takes the config and a function that stores a credential in a Secret and returns
its reference; it answers the KubeKuma provider type and settings, or None when the Uptime
Kuma type has no counterpart. Fields a mapper does not read are reported by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Keep = Callable[[str, Any], dict[str, str]]  # (key, value) -> SecretKeyRef
Mapped = tuple[str, dict[str, Any], set[str]]  # provider type, settings, config keys used
Mapper = Callable[[dict[str, Any], Keep], Mapped]


def _some(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v not in (None, "")}


def _slack(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        webhookUrlSecretRef=keep("webhook-url", c.get("slackwebhookURL")),
        channel=c.get("slackchannel"),
        username=c.get("slackusername"),
        iconEmoji=c.get("slackiconemo"),
    )
    return "slack", s, {"slackwebhookURL", "slackchannel", "slackusername", "slackiconemo"}


def _discord(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        webhookUrlSecretRef=keep("webhook-url", c.get("discordWebhookUrl")), username=c.get("discordUsername")
    )
    return "discord", s, {"discordWebhookUrl", "discordUsername"}


def _telegram(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        botTokenSecretRef=keep("bot-token", c.get("telegramBotToken")),
        chatId=str(c.get("telegramChatID", "")),
        disableNotification=bool(c.get("telegramSendSilently")) or None,
    )
    thread = c.get("telegramMessageThreadID")
    if thread:
        s["messageThreadId"] = int(thread)
    return (
        "telegram",
        s,
        {"telegramBotToken", "telegramChatID", "telegramSendSilently", "telegramMessageThreadID"},
    )


def _smtp(c: dict[str, Any], keep: Keep) -> Mapped:
    secure = c.get("smtpSecure")
    security = "tls" if secure in (True, "true", 1) else "starttls"
    s = _some(
        host=c.get("smtpHost"),
        port=int(c.get("smtpPort") or 587),
        security=security,
        username=c.get("smtpUsername"),
        **{"from": c.get("smtpFrom")},
    )
    if c.get("smtpPassword"):
        s["passwordSecretRef"] = keep("password", c["smtpPassword"])
    if c.get("smtpIgnoreTLSError"):
        s["tlsVerify"] = False
    s["to"] = [a.strip() for a in str(c.get("smtpTo") or "").split(",") if a.strip()]
    cc = [a.strip() for a in str(c.get("smtpCC") or "").split(",") if a.strip()]
    if cc:
        s["cc"] = cc
    used = {
        "smtpHost",
        "smtpPort",
        "smtpSecure",
        "smtpUsername",
        "smtpPassword",
        "smtpFrom",
        "smtpTo",
        "smtpCC",
        "smtpIgnoreTLSError",
    }
    return "smtp", s, used


def _webhook(c: dict[str, Any], keep: Keep) -> Mapped:
    s: dict[str, Any] = {"urlSecretRef": keep("url", c.get("webhookURL"))}
    headers = c.get("webhookAdditionalHeaders")
    used = {"webhookURL", "webhookContentType"}
    if isinstance(headers, str) and headers.strip():
        try:
            parsed = json.loads(headers)
            s["headers"] = [{"name": k, "value": str(v)} for k, v in parsed.items()]
            used.add("webhookAdditionalHeaders")
        except (ValueError, AttributeError):
            pass
    return "webhook", s, used


def _gotify(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        url=c.get("gotifyserverurl"),
        tokenSecretRef=keep("token", c.get("gotifyapplicationToken")),
        priority=c.get("gotifyPriority"),
    )
    return "gotify", s, {"gotifyserverurl", "gotifyapplicationToken", "gotifyPriority"}


def _pushover(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        userKeySecretRef=keep("user-key", c.get("pushoveruserkey")),
        apiTokenSecretRef=keep("api-token", c.get("pushoverapptoken")),
        sound=c.get("pushoversounds"),
        device=c.get("pushoverdevice"),
        priority=int(c["pushoverpriority"]) if c.get("pushoverpriority") not in (None, "") else None,
    )
    return (
        "pushover",
        s,
        {"pushoveruserkey", "pushoverapptoken", "pushoversounds", "pushoverdevice", "pushoverpriority"},
    )


def _ntfy(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        url=c.get("ntfyserverurl"),
        topic=c.get("ntfytopic"),
        priority=c.get("ntfyPriority"),
        username=c.get("ntfyusername"),
    )
    if c.get("ntfypassword"):
        s["passwordSecretRef"] = keep("password", c["ntfypassword"])
    if c.get("ntfyaccesstoken"):
        s["tokenSecretRef"] = keep("token", c["ntfyaccesstoken"])
    return (
        "ntfy",
        s,
        {
            "ntfyserverurl",
            "ntfytopic",
            "ntfyPriority",
            "ntfyusername",
            "ntfypassword",
            "ntfyaccesstoken",
            "ntfyAuthenticationMethod",
        },
    )


def _webhook_only(kind: str, key: str) -> Mapper:
    def mapper(c: dict[str, Any], keep: Keep) -> Mapped:
        return kind, {"webhookUrlSecretRef": keep("webhook-url", c.get(key))}, {key}

    return mapper


def _matrix(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        homeserverUrl=c.get("homeserverUrl"),
        roomId=c.get("internalRoomId"),
        accessTokenSecretRef=keep("access-token", c.get("accessToken")),
    )
    return "matrix", s, {"homeserverUrl", "internalRoomId", "accessToken"}


def _pagerduty(c: dict[str, Any], keep: Keep) -> Mapped:
    s = _some(
        routingKeySecretRef=keep("routing-key", c.get("pagerdutyIntegrationKey")),
        eventsUrl=c.get("pagerdutyIntegrationUrl"),
    )
    return (
        "pagerduty",
        s,
        {"pagerdutyIntegrationKey", "pagerdutyIntegrationUrl", "pagerdutyPriority", "pagerdutyAutoResolve"},
    )


def _opsgenie(c: dict[str, Any], keep: Keep) -> Mapped:
    s: dict[str, Any] = {"apiKeySecretRef": keep("api-key", c.get("opsgenieApiKey"))}
    if c.get("opsgenieRegion") == "eu":
        s["apiUrl"] = "https://api.eu.opsgenie.com"
    if c.get("opsgeniePriority"):
        s["priority"] = f"P{c['opsgeniePriority']}"
    return "opsgenie", s, {"opsgenieApiKey", "opsgenieRegion", "opsgeniePriority"}


def _apprise(c: dict[str, Any], keep: Keep) -> Mapped:
    # KubeKuma talks to an Apprise API server; the URLs Uptime Kuma handed to its apprise CLI go in a Secret.
    s = {"url": "http://apprise:8000", "urlsSecretRef": keep("urls", c.get("appriseURL"))}
    return "apprise", s, {"appriseURL"}


MAPPERS: dict[str, Mapper] = {
    "slack": _slack,
    "discord": _discord,
    "telegram": _telegram,
    "smtp": _smtp,
    "webhook": _webhook,
    "gotify": _gotify,
    "pushover": _pushover,
    "ntfy": _ntfy,
    "teams": _webhook_only("teams", "webhookUrl"),
    "mattermost": _webhook_only("mattermost", "mattermostWebhookUrl"),
    "GoogleChat": _webhook_only("googlechat", "googleChatWebhookURL"),
    "matrix": _matrix,
    "PagerDuty": _pagerduty,
    "Opsgenie": _opsgenie,
    "apprise": _apprise,
}
# Keys every config carries that are Uptime Kuma's own bookkeeping, not settings.
COMMON_KEYS = {"name", "type", "isDefault", "applyExisting", "id", "active", "userId", "userID"}
