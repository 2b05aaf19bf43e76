"""Notification deliveries: one row per (event, provider), claimed before sending.

The unique (event_key, provider_uid) key makes creating a delivery idempotent: a
redelivered transition or a re-run reminder job finds the row it made before. Sending
claims the row (pending -> sending) with a token made for that one attempt, the time it
started and the process that holds it; only the holder of the token may finish it, and a
claim is retaken only when its holder died or overran the lease. One column per meaning:
`claimed_at` while sending, `in_flight` once that attempt's request has left, `next_at`
while waiting for a retry, `sent_at` once it went out, and `maybe_delivered` when an
attempt ended without a clear answer (a timeout, a worker that died with its request in
flight), so the recovery still goes to a provider that may have heard of the outage, and
only then.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.model import DeliveryStatus
from app.store.timeutil import from_db, iso, to_db

StrList = list[str]
AnyList = list[Any]

LIVE = ("pending", "sending", "sent")  # a message that went, or is going, out
ORDERED = ("down", "up", "reminder")  # an incident's notices: per monitor and provider, in order


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
    incident_id: int | None = None
    claimed_at: datetime | None = None
    next_at: datetime | None = None
    maybe_delivered: bool = False
    token: str | None = None  # set on the view a claim returns
    in_flight: bool = False  # the current attempt's request has left

    def to_json(self) -> dict[str, Any]:
        quiet = self.status in (DeliveryStatus.SUPPRESSED, DeliveryStatus.SUPERSEDED)
        return {
            "id": self.id, "eventKey": self.event_key, "event": self.event, "status": self.status,
            "attempts": self.attempts, "reason": self.last_error if quiet else None,
            "lastError": None if quiet else (self.last_error or None), "title": self.title,
            "body": self.body, "createdAt": iso(self.created_at), "incidentId": self.incident_id,
            "sentAt": iso(self.sent_at) if self.status == DeliveryStatus.SENT else None,
            "nextAttemptAt": iso(self.next_at) if self.status == DeliveryStatus.PENDING else None,
            "maybeDelivered": self.maybe_delivered,
        }  # fmt: skip


DeliveryList = list[DeliveryView]  # spelled out here: inside the repo, `list` is a method's name


def _view(r: Any, token: str | None = None) -> DeliveryView:
    return DeliveryView(
        r.id, r.event_key, r.provider_uid, r.monitor_uid, r.event, r.status, r.attempts, r.last_error or "",
        r.title or "", r.body or "", from_db(r.created_at), from_db(r.sent_at), r.incident_id,  # type: ignore[arg-type]
        from_db(r.claimed_at), from_db(r.next_at), bool(r.maybe_delivered), token, bool(r.in_flight),
    )  # fmt: skip


_INSERT = (
    "INSERT INTO kk_deliveries (event_key, provider_uid, monitor_uid, event, status, attempts, last_error, "
    "title, body, created_at, incident_id, maybe_delivered, in_flight) VALUES "
    "($key, $provider, $monitor, $event, $status, 0, $error, $title, $body, $now, $incident, $no, $no) "
    "ON CONFLICT (event_key, provider_uid) DO NOTHING"
)


class DeliveryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, event_key: str, provider_uid: str, monitor_uid: str | None, event: str, status: str,
        title: str, body: str, now: datetime, reason: str = "", incident_id: int | None = None,
    ) -> tuple[DeliveryView, bool]:  # fmt: skip
        """The row for (event_key, provider_uid): made now (True) or found as it was (False)."""
        with db_session:
            cur = self.db.execute(_INSERT, {
                "key": event_key[:200], "provider": provider_uid, "monitor": monitor_uid, "event": event,
                "status": str(status), "error": reason[:2000] or None, "title": title[:1000],
                "body": body[:8000], "now": to_db(now), "incident": incident_id, "no": False,
            })  # fmt: skip
            created = cur.rowcount == 1
        with db_session:
            row = self.db.Delivery.get(event_key=event_key[:200], provider_uid=provider_uid)
            return _view(row), created

    def retake(self, delivery_id: int, now: datetime, lease_s: float, alive: Any = None) -> bool:
        """sending -> pending when the claim's holder died or overran the lease, so the row passes the
        same gates (order, staleness, an outage heard of) as any other before it is tried again.
        False when it is not `sending` or its holder is alive and within the lease."""
        with db_session:
            row = self.db.Delivery.get_for_update(id=delivery_id)
            if row is None or row.status != DeliveryStatus.SENDING:
                return False
            fresh = row.claimed_at is not None and from_db(row.claimed_at) > now - timedelta(seconds=lease_s)
            if fresh and (alive is None or alive(row.claim_holder or "")):
                return False
            # The holder died mid-attempt: if its request had gone out, the outcome is unknown.
            row.maybe_delivered = row.maybe_delivered or row.in_flight
            row.status, row.claim_token, row.claimed_at, row.in_flight = (
                str(DeliveryStatus.PENDING),
                None,
                None,
                False,
            )
            row.next_at = to_db(now)
            return True

    def claim(self, delivery_id: int, holder: str, now: datetime) -> DeliveryView | None:
        """pending -> sending for one attempt, under a token of its own. None unless pending."""
        with db_session:
            row = self.db.Delivery.get_for_update(id=delivery_id)
            if row is None or row.status != DeliveryStatus.PENDING:
                return None
            token = uuid.uuid4().hex
            row.status, row.claim_token, row.claim_holder = str(DeliveryStatus.SENDING), token, holder[:200]
            row.claimed_at, row.next_at, row.in_flight = to_db(now), None, False
            row.attempts += 1
            return _view(row, token)

    def _finish(self, delivery_id: int, token: str | None, status: DeliveryStatus, error: str | None = None,
                **fields: Any) -> bool:  # fmt: skip
        """Move a row to `status`: only the holder of `token` may, or (token None) only while pending."""
        with db_session:
            row = self.db.Delivery.get_for_update(id=delivery_id)
            if row is None:
                return False
            if token is not None and (row.claim_token != token or row.status != DeliveryStatus.SENDING):
                return False
            if token is None and row.status != DeliveryStatus.PENDING:
                return False
            row.status, row.claim_token, row.in_flight = str(status), None, False
            if status != DeliveryStatus.SENDING:
                row.claimed_at = None
            if error is not None:
                row.last_error = error[:2000]
            for name, value in fields.items():
                setattr(row, name, value)
            return True

    def going_out(self, delivery_id: int, token: str) -> bool:
        """The attempt's request is about to leave: from now on its outcome may be unknown. False when
        the claim is no longer this token's (retaken from a holder that stalled): then it must not send."""
        with db_session:
            cur = self.db.execute(
                "UPDATE kk_deliveries SET in_flight = $yes "
                "WHERE id = $id AND claim_token = $t AND status = $s",
                {"yes": True, "id": delivery_id, "t": token, "s": str(DeliveryStatus.SENDING)},
            )
            return bool(cur.rowcount == 1)

    def mark_sent(self, delivery_id: int, token: str, now: datetime) -> bool:
        # last_error stays: it tells why it took attempts
        return self._finish(delivery_id, token, DeliveryStatus.SENT, sent_at=to_db(now))

    def retry_at(self, delivery_id: int, token: str, error: str, at: datetime, maybe_delivered: bool) -> bool:
        """A transient failure: back to pending until `at`, with what went wrong."""
        fields: dict[str, Any] = {"next_at": to_db(at)}
        if maybe_delivered:
            fields["maybe_delivered"] = True
        return self._finish(delivery_id, token, DeliveryStatus.PENDING, error, **fields)

    def mark_failed(
        self, delivery_id: int, token: str | None, error: str, maybe_delivered: bool = False
    ) -> bool:
        fields = {"maybe_delivered": True} if maybe_delivered else {}
        return self._finish(delivery_id, token, DeliveryStatus.FAILED, error, **fields)

    def mark_suppressed(self, delivery_id: int, reason: str, token: str | None = None) -> bool:
        return self._finish(delivery_id, token, DeliveryStatus.SUPPRESSED, reason)

    def supersede(self, delivery_id: int, reason: str, token: str | None = None) -> bool:
        """Stale before it could go (its incident recovered): never sent, and says why."""
        return self._finish(delivery_id, token, DeliveryStatus.SUPERSEDED, reason)

    def wait_until(self, delivery_id: int, at: datetime) -> None:
        """A pending delivery that waits its turn is not lost: note when it is looked at next."""
        with db_session:
            self.db.execute("UPDATE kk_deliveries SET next_at = $at WHERE id = $id AND status = 'pending'",
                            {"at": to_db(at), "id": delivery_id})  # fmt: skip

    def earlier_unfinished(self, row: DeliveryView) -> DeliveryList:
        """An incident's notices to the same provider about the same monitor, made before `row`
        and not final yet: `row` goes only after them."""
        if row.event not in ORDERED or row.monitor_uid is None:
            return []
        with db_session:
            unfinished = ("pending", "sending")
            q = select(d for d in self.db.Delivery
                       if d.monitor_uid == row.monitor_uid and d.provider_uid == row.provider_uid
                       and d.id < row.id and d.event in ORDERED and d.status in unfinished)  # fmt: skip
            return [_view(r) for r in q.order_by(lambda d: d.id)[:20]]

    def announced(self, provider_uid: str, incident_id: int) -> bool:
        """Whether the provider heard (or may have heard) of the incident: its DOWN went out, is going
        out, or an attempt at it ended without a clear answer."""
        with db_session:
            return select(d for d in self.db.Delivery
                          if d.incident_id == incident_id and d.provider_uid == provider_uid
                          and d.event == "down"
                          and (d.status in ("sent", "sending") or d.maybe_delivered)).exists()  # fmt: skip

    def missing_providers(self) -> list[str]:
        """Provider uids of failed rows that name a provider that does not exist (`missing:…`)."""
        with db_session:
            return list(select(d.provider_uid for d in self.db.Delivery
                               if d.provider_uid.startswith("missing:")).distinct()[:1000])  # fmt: skip

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

    def find(self, event_key: str, provider_uid: str) -> DeliveryView | None:
        with db_session:
            row = self.db.Delivery.get(event_key=event_key, provider_uid=provider_uid)
            return _view(row) if row else None

    def exists(self, event_key: str) -> bool:
        with db_session:
            return bool(self.db.exists("SELECT 1 FROM kk_deliveries WHERE event_key = $k", {"k": event_key}))

    def stuck(self, now: datetime, grace_s: float, lease_s: float, alive: Any = None,
              limit: int = 500) -> list[int]:  # fmt: skip
        """Deliveries nobody is working on: pending past their due time by `grace_s` (the message was
        lost, or a restart dropped a delayed retry), or claimed by a holder that died or overran
        `lease_s`."""
        g_cut = to_db(now - timedelta(seconds=grace_s))
        l_cut = to_db(now - timedelta(seconds=lease_s))
        with db_session:
            late = select(d.id for d in self.db.Delivery
                          if d.status == "pending"
                          and ((d.next_at is None and d.created_at < g_cut)
                               or d.next_at < g_cut))  # fmt: skip
            late = late.order_by(1)[:limit]
            claimed = select((d.id, d.claimed_at, d.claim_holder) for d in self.db.Delivery
                             if d.status == "sending")[:limit]  # fmt: skip
        out = list(late)
        for did, claimed_at, holder in claimed:
            if claimed_at is None or claimed_at < l_cut or (alive is not None and not alive(holder or "")):
                out.append(did)
        return sorted(out)

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
            cur = self.db.execute(
                "DELETE FROM kk_deliveries WHERE created_at < $cut AND status IN "
                "('sent', 'failed', 'suppressed', 'superseded')",
                {"cut": to_db(older_than)},
            )
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
