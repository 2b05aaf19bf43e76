"""One module per notification provider behind `Notifier`; `notifier(type)` finds it in the registry.

Each module registers itself on import, and this package imports every one of them, so
the registry is complete without scanning the file system.
"""

from __future__ import annotations

from typing import Any

from app.notifiers import (  # noqa: F401 - importing registers
    alertmanager,
    apprise,
    discord,
    googlechat,
    gotify,
    matrix,
    mattermost,
    ntfy,
    opsgenie,
    pagerduty,
    pushover,
    slack,
    smtp,
    teams,
    telegram,
    webhook,
)
from app.notifiers.base import REGISTRY, Message, Notifier, NotifierError, NotifyContext


def notifier(provider_type: str) -> Notifier[Any]:
    found = REGISTRY.get(provider_type)
    if found is None:
        raise NotifierError(f"no notifier for provider type {provider_type!r}", permanent=True)
    return found


def style(provider_type: str) -> str:
    """The default-template style of a provider type (chat, mail, push or incident)."""
    found = REGISTRY.get(provider_type)
    return found.style if found else "chat"


def validate_settings(provider_type: str, settings: dict[str, Any]) -> list[str]:
    """Problems with a provider's settings, each naming its field (for the controller and `validate`)."""
    try:
        notifier(provider_type).parse(settings)
    except NotifierError as exc:
        return str(exc).split("; ")
    return []


__all__ = ["Message", "Notifier", "NotifierError", "NotifyContext", "notifier", "style", "validate_settings"]
