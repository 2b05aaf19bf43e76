"""The database keeps naive UTC datetimes; everything above the store uses aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def to_db(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


@overload
def from_db(dt: datetime) -> datetime: ...


@overload
def from_db(dt: None) -> None: ...


def from_db(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    d = from_db(dt)
    return d.isoformat().replace("+00:00", "Z") if d else None
