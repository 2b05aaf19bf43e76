"""Notification deliveries: one row per (event, provider), claimed before sending.

The unique (event_key, provider_uid) key makes creating a delivery idempotent: a
redelivered transition or a re-run reminder job finds the row it made before. Sending
claims the row with one conditional UPDATE (pending -> sending), so two workers holding the
same message cannot both send it; a claim is only retaken once it is stale (its worker
died). The table has no claim column: while a row is `sending`, `sent_at` holds the time
of the claim; once `sent`, the time it went out.

Statuses: pending, sending, sent, failed, suppressed (with the reason in last_error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.store.timeutil import from_db, iso, to_db

StrList = list[str]
AnyList = list[Any]

STATUSES = ("pending", "sending", "sent", "failed", "suppressed")
LIVE = ("pending", "sending", "sent")  # a message that went, or is going, out


@dataclass(slots=True)
class DeliveryView:
    id: int
    event_key: str
    provider_uid: str
    monitor_uid: str | None
    event: str
    status: str
    attempts: int
    last_error: str
    title: str
    body: str
    created_at: datetime
    sent_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        suppressed = self.status == "suppressed"
        return {
            "id": self.id, "eventKey": self.event_key, "event": self.event, "status": self.status,
            "attempts": self.attempts, "reason": self.last_error if suppressed else None,
            "lastError": None if suppressed else (self.last_error or None), "title": self.title,
            "body": self.body, "createdAt": iso(self.created_at),
            "sentAt": iso(self.sent_at) if self.status == "sent" else None,
        }  # fmt: skip


DeliveryList = list[DeliveryView]  # spelled out here: inside the repo, `list` is a method's name


def _view(r: Any) -> DeliveryView:
    return DeliveryView(
        r.id, r.event_key, r.provider_uid, r.monitor_uid, r.event, r.status, r.attempts, r.last_error or "",
        r.title or "", r.body or "", from_db(r.created_at), from_db(r.sent_at),  # type: ignore[arg-type]
    )  # fmt: skip


_INSERT = (
    "INSERT INTO kk_deliveries (event_key, provider_uid, monitor_uid, event, status, attempts, last_error, "
    "title, body, created_at) "
    "VALUES ($key, $provider, $monitor, $event, $status, 0, $error, $title, $body, $now) "
    "ON CONFLICT (event_key, provider_uid) DO NOTHING"
)
_CLAIM = (
    "UPDATE kk_deliveries SET status = 'sending', sent_at = $now, attempts = attempts + 1 "
    "WHERE id = $id AND (status = 'pending' OR (status = 'sending' AND sent_at < $stale))"
)


class DeliveryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, event_key: str, provider_uid: str, monitor_uid: str | None, event: str, status: str,
        title: str, body: str, now: datetime, reason: str = "",
    ) -> tuple[DeliveryView, bool]:  # fmt: skip
        """The row for (event_key, provider_uid): made now (True) or found as it was (False)."""
        with db_session:
            cur = self.db.execute(_INSERT, {
                "key": event_key[:200], "provider": provider_uid, "monitor": monitor_uid, "event": event,
                "status": status, "error": reason[:2000] or None, "title": title[:1000], "body": body[:8000],
                "now": to_db(now),
            })  # fmt: skip
            created = cur.rowcount == 1
        with db_session:
            row = self.db.Delivery.get(event_key=event_key[:200], provider_uid=provider_uid)
            return _view(row), created

    def claim(self, delivery_id: int, now: datetime, stale_s: float) -> DeliveryView | None:
        """pending -> sending (or retake a stale claim). None when sent, failed, suppressed or in flight."""
        with db_session:
            cur = self.db.execute(_CLAIM, {"id": delivery_id, "now": to_db(now),
                                           "stale": to_db(now - timedelta(seconds=stale_s))})  # fmt: skip
            if cur.rowcount != 1:
                return None
        return self.get(delivery_id)

    def _finish(self, delivery_id: int, status: str, error: str | None, now: datetime | None) -> None:
        with db_session:
            row = self.db.Delivery.get_for_update(id=delivery_id)
            if row is None:
                return
            row.status = status
            if error is not None:
                row.last_error = error[:2000]
            if now is not None:
                row.sent_at = to_db(now)

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        self._finish(delivery_id, "sent", None, now)  # last_error stays: it tells why it took attempts

    def touch(self, delivery_id: int, now: datetime) -> None:
        """A pending delivery that waits its turn is not lost: mark when it was last looked at."""
        with db_session:
            self.db.execute("UPDATE kk_deliveries SET sent_at = $now WHERE id = $id AND status = 'pending'",
                            {"now": to_db(now), "id": delivery_id})  # fmt: skip

    def release(self, delivery_id: int, error: str) -> None:
        """A transient failure: back to pending for the next attempt, with what went wrong."""
        self._finish(delivery_id, "pending", error, None)

    def mark_failed(self, delivery_id: int, error: str) -> None:
        self._finish(delivery_id, "failed", error, None)

    def mark_suppressed(self, delivery_id: int, reason: str) -> None:
        self._finish(delivery_id, "suppressed", reason, None)

    def get(self, delivery_id: int) -> DeliveryView | None:
        with db_session:
            row = self.db.Delivery.get(id=delivery_id)
            return _view(row) if row else None

    def last_live(self, monitor_uid: str, provider_uid: str, event: str,
                  since: datetime) -> DeliveryView | None:  # fmt: skip
        """The newest delivery of this event to this provider since `since` that went (or is going) out."""
        t = to_db(since)
        with db_session:
            q = select(d for d in self.db.Delivery
                       if d.monitor_uid == monitor_uid and d.provider_uid == provider_uid
                       and d.event == event and d.created_at >= t and d.status in LIVE)  # fmt: skip
            rows = q.order_by(lambda d: desc(d.id))[:1]
            return _view(rows[0]) if rows else None

    def announced(self, provider_uid: str, keys: StrList, prefix: str | None = None) -> bool:
        """Whether an event with one of `keys` (or a key starting with `prefix`) was meant to reach the
        provider: sent, being sent, or tried and failed, but not suppressed."""
        wanted = (*LIVE, "failed")
        with db_session:
            q = select(d for d in self.db.Delivery if d.provider_uid == provider_uid and d.status in wanted)
            if prefix:
                q = q.filter(lambda d: d.event_key in keys or d.event_key.startswith(prefix))
            else:
                q = q.filter(lambda d: d.event_key in keys)
            return q.exists()

    def find(self, event_key: str, provider_uid: str) -> DeliveryView | None:
        with db_session:
            row = self.db.Delivery.get(event_key=event_key, provider_uid=provider_uid)
            return _view(row) if row else None

    def exists(self, event_key: str) -> bool:
        with db_session:
            return bool(self.db.exists("SELECT 1 FROM kk_deliveries WHERE event_key = $k", {"k": event_key}))

    def stuck(self, now: datetime, pending_s: float, retry_s: float, stale_s: float,
              limit: int = 500) -> list[int]:  # fmt: skip
        """Deliveries nobody is working on: never tried and untouched for `pending_s` (the message was
        lost), between retries for longer than `retry_s` (longer than any backoff: the retry was lost),
        or claimed longer than `stale_s` ago (the worker died)."""
        p_cut = to_db(now - timedelta(seconds=pending_s))
        r_cut = to_db(now - timedelta(seconds=retry_s))
        s_cut = to_db(now - timedelta(seconds=stale_s))
        with db_session:
            q = select(d.id for d in self.db.Delivery
                       if (d.status == "pending" and d.attempts == 0 and d.created_at < p_cut
                           and (d.sent_at is None or d.sent_at < p_cut))
                       or (d.status == "pending" and d.attempts > 0 and d.sent_at < r_cut)
                       or (d.status == "sending" and d.sent_at < s_cut))  # fmt: skip
            return list(q.order_by(1)[:limit])

    def list(
        self, monitor_uids: StrList | None = None, provider_uids: StrList | None = None,
        status: str | None = None, event: str | None = None, since: datetime | None = None,
        until: datetime | None = None, limit: int = 50, before: int | None = None,
    ) -> DeliveryList:  # fmt: skip
        """Newest first; `before` is the id of the last row of the previous page."""
        if monitor_uids == [] or provider_uids == []:
            return []
        with db_session:
            q = select(d for d in self.db.Delivery)
            if monitor_uids is not None:
                q = q.filter(lambda d: d.monitor_uid in monitor_uids)
            if provider_uids is not None:
                q = q.filter(lambda d: d.provider_uid in provider_uids)
            if status:
                q = q.filter(lambda d: d.status == status)
            if event:
                q = q.filter(lambda d: d.event == event)
            if since is not None:
                s = to_db(since)
                q = q.filter(lambda d: d.created_at >= s)
            if until is not None:
                u = to_db(until)
                q = q.filter(lambda d: d.created_at < u)
            if before is not None:
                q = q.filter(lambda d: d.id < before)
            return [_view(r) for r in q.order_by(lambda d: desc(d.id))[:limit]]

    def prune(self, older_than: datetime) -> int:
        with db_session:
            cur = self.db.execute("DELETE FROM kk_deliveries WHERE created_at < $cut AND status IN "
                                  "('sent', 'failed', 'suppressed')", {"cut": to_db(older_than)})  # fmt: skip
            return int(cur.rowcount)

    # -- incident search for the alert API --------------------------------------------------------
    # IncidentRepo lists by monitor only; the API filters by monitors and a time range, which
    # this query does in the database so that limits and pages stay right.
    def incidents(
        self, monitor_uids: StrList | None = None, open_only: bool | None = None,
        since: datetime | None = None, until: datetime | None = None, limit: int = 50,
        before: int | None = None,
    ) -> AnyList:  # fmt: skip
        from app.store.incidents import _incident

        if monitor_uids == []:
            return []
        with db_session:
            q = select(i for i in self.db.Incident)
            if monitor_uids is not None:
                q = q.filter(lambda i: i.monitor_uid in monitor_uids)
            if open_only is True:
                q = q.filter(lambda i: i.closed_at is None)
            elif open_only is False:
                q = q.filter(lambda i: i.closed_at is not None)
            if since is not None:  # overlapping [since, until): still open, or closed after since
                s = to_db(since)
                q = q.filter(lambda i: i.closed_at is None or i.closed_at >= s)
            if until is not None:
                u = to_db(until)
                q = q.filter(lambda i: i.opened_at < u)
            if before is not None:
                q = q.filter(lambda i: i.id < before)
            return [_incident(r) for r in q.order_by(lambda i: desc(i.id))[:limit]]
