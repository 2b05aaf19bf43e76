"""Sending one delivery: in order, never stale, each attempt under its own claim.

Per monitor and provider an incident's notices (down, up, reminder) go out in the order
their rows were made, which is the order the incidents opened and closed. Before a row
is sent:

- a DOWN or reminder whose incident is already over is `superseded`, never sent;
- it waits while an earlier notice to the same provider is still pending or being sent
  (an earlier stale one is superseded on the spot instead of being waited for);
- an UP or a reminder goes only to a provider that heard, or may have heard, of the outage.

Then it is claimed (pending -> sending with a token), sent, and finished by the token's
holder. A transient failure schedules the next attempt itself (`next_at` in the row, a
delayed message on the broker); the sweeper resends what a lost message or a restart left
behind, so retries resume on time after a crash.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import dramatiq

from app.actors.runtime import Runtime
from app.alerting.routing import ProviderView
from app.model import DeliveryStatus
from app.notifiers import NotifierError, dispatch
from app.resources.kinds import NotificationProviderSpec
from app.store import DeliveryView

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10  # with backoff from 0.5 s doubling to 5 min: about 9 minutes of trying
LEASE_S = 60.0  # longer than an attempt may take (the actor's time limit is 45 s)
TIME_LIMIT_MS = 45_000


def backoff_s(attempts: int) -> float:
    return float(min(300.0, 0.5 * 2 ** max(attempts - 1, 0)))


class Sender:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.deliver: dramatiq.Actor = None  # type: ignore[assignment]  # set when declared
        self.on_health: Any = lambda uid, healthy, error: None

    def run(self, delivery_id: int, facts: dict[str, Any] | None = None) -> str | None:
        """Returns what became of the delivery (for tests and logs), or None when there was nothing to do."""
        rt, repo = self.rt, self.rt.store.deliveries
        row = repo.get(delivery_id)
        if row is None or row.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            return None
        if row.status == DeliveryStatus.SENDING:  # a claim whose holder died comes back as pending
            if self._may_still_land(row):
                return None  # the lease runs out first; the sweeper brings it back then
            if not repo.retake(row.id, rt.clock(), LEASE_S, rt.liveness.alive):
                return None  # in flight on a live worker
            row = repo.get(row.id)
            if row is None or row.status != DeliveryStatus.PENDING:
                return None  # another worker retook it first
        why = self.stale(row)
        if why:
            repo.supersede(row.id, why)
            return DeliveryStatus.SUPERSEDED
        wait = self._wait_for_earlier(row)
        if wait is not None:  # keep the order a person reads: not before what came first
            repo.wait_until(row.id, rt.clock() + timedelta(milliseconds=wait))
            self.deliver.send_with_options(args=(row.id, facts), delay=wait)
            return "waiting"
        if self._unannounced(row):
            repo.mark_suppressed(row.id, "no DOWN notice of this incident reached this provider")
            return DeliveryStatus.SUPPRESSED
        claimed = repo.claim(row.id, rt.identity, rt.clock())
        if claimed is None:
            return None  # final, or claimed by another worker a moment ago
        token = claimed.token
        assert token is not None
        provider = self.provider(claimed.provider_uid)
        if provider is None:
            repo.mark_failed(claimed.id, token, "the provider no longer exists")
            return DeliveryStatus.FAILED
        if not provider.enabled:
            repo.mark_suppressed(claimed.id, f"provider {provider.key} is disabled", token)
            return DeliveryStatus.SUPPRESSED
        ctx = dispatch.context(provider, rt.secrets, rt.session())
        monitor = rt.catalog.monitor(claimed.monitor_uid) if claimed.monitor_uid else None
        msg = dispatch.message_from(claimed, facts, monitor)
        if not repo.going_out(claimed.id, token):
            log.warning("delivery %d: the claim was retaken before its request left; not sending", claimed.id)
            return None
        try:
            dispatch.send(provider, msg, ctx)
        except Exception as exc:
            err = dispatch.safe_error(exc, ctx)
            if not isinstance(exc, NotifierError):  # a bug: say where; no traceback, it may quote a secret
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
                log.error("delivery %d to %s: %s (at %s)", claimed.id, provider.key, err, where)
            return self._failed(claimed, provider, err, facts)
        if not repo.mark_sent(claimed.id, token, rt.clock()):
            log.warning("delivery %d was sent after its claim was retaken", claimed.id)
        log.info("delivery %d (%s) sent to %s after %d attempt(s)", claimed.id, claimed.event, provider.key,
                 claimed.attempts)  # fmt: skip
        return DeliveryStatus.SENT

    def stale(self, row: DeliveryView) -> str:
        """Why a DOWN or reminder is no longer news (its incident is over), or ''."""
        if row.event not in ("down", "reminder") or row.incident_id is None:
            return ""
        incident = self.rt.store.incidents.get(row.incident_id)
        ending = incident.ending() if incident is not None else ""
        if not ending:
            return ""
        return f"incident {row.incident_id} was over ({ending}) before this {row.event} notice could go out"

    def _may_still_land(self, row: DeliveryView) -> bool:
        """A request that left within the attempt's lease, for an outage still going on: a holder that
        stopped beating may only have stalled, and its request may still arrive. Sending it again now
        would be a second DOWN without a crash; a stale one is superseded at once (the UP waits for it)."""
        if not row.in_flight or row.claimed_at is None:
            return False
        if (self.rt.clock() - row.claimed_at).total_seconds() >= LEASE_S:
            return False
        return not self.stale(row)

    def _unannounced(self, row: DeliveryView) -> bool:
        """An UP or reminder for an outage this provider never heard of."""
        if row.event not in ("up", "reminder") or row.incident_id is None:
            return False
        return not self.rt.store.deliveries.announced(row.provider_uid, row.incident_id)

    def _wait_for_earlier(self, row: DeliveryView) -> int | None:
        """Milliseconds to wait for an earlier notice to the same provider, or None to go now."""
        repo = self.rt.store.deliveries
        for other in repo.earlier_unfinished(row):
            if other.status == DeliveryStatus.PENDING:
                why = self.stale(other)
                if why and repo.supersede(other.id, why):
                    continue
            if other.status == DeliveryStatus.SENDING:
                return 250
            due = other.next_at or other.created_at
            left = (due - self.rt.clock()).total_seconds() * 1000 if due else 0
            return int(min(60_000, max(250, left + 100)))
        return None

    def _failed(self, row: DeliveryView, provider: ProviderView, err: NotifierError,
                facts: dict[str, Any] | None) -> str:  # fmt: skip
        repo, token = self.rt.store.deliveries, row.token
        assert token is not None
        if err.permanent or row.attempts >= MAX_ATTEMPTS:
            final = str(err) if err.permanent else f"{err} (gave up after {row.attempts} attempts)"
            repo.mark_failed(row.id, token, final, err.maybe_delivered)
            self.on_health(provider.uid, False, final)
            log.warning("delivery %d to %s failed: %s", row.id, provider.key, final)
            return DeliveryStatus.FAILED
        wait = backoff_s(row.attempts)
        repo.retry_at(row.id, token, str(err), self.rt.clock() + timedelta(seconds=wait), err.maybe_delivered)
        log.info(
            "delivery %d to %s: %s; attempt %d in %.1fs", row.id, provider.key, err, row.attempts + 1, wait
        )
        self.deliver.send_with_options(args=(row.id, facts), delay=int(wait * 1000))
        return "retrying"

    def provider(self, uid: str) -> ProviderView | None:
        """Read fresh, not from the cache: a provider edited a moment ago must send with its new settings."""
        rec = self.rt.store.resources.get_uid(uid)
        if rec is None or rec.spec is None:
            return None
        spec = NotificationProviderSpec.model_validate(rec.spec)
        return ProviderView(rec.uid, rec.namespace, rec.name, spec.type, spec.enabled, spec.settings,
                            rec.generation, rec.status)  # fmt: skip
