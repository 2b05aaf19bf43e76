"""Pony entities: one function defines them on a given Database, so each Store has its own."""

from __future__ import annotations

from datetime import datetime

from pony.orm import Database, Json, Optional, PrimaryKey, Required, composite_index, composite_key


def define_entities(db: Database) -> None:
    class Meta(db.Entity):  # type: ignore[name-defined]
        _table_ = "kk_meta"
        key = PrimaryKey(str, max_len=100)
        value = Required(str)

    class ResourceRow(db.Entity):  # type: ignore[name-defined]
        """The resource cache: every object of the ten kinds with its status."""

        _table_ = "kk_resources"
        uid = PrimaryKey(str, max_len=64)
        kind = Required(str, max_len=64, index=True)
        # "" for cluster-scoped kinds (KubeKumaSettings). Optional only to Pony, which refuses "" in a
        # Required str; the column stays NOT NULL, so no migration.
        namespace = Optional(str, max_len=253)
        name = Required(str, max_len=253)
        generation = Required(int, default=1)
        spec = Optional(Json, nullable=True)
        labels = Optional(Json, nullable=True)
        status = Optional(Json, nullable=True)
        valid = Required(bool, default=True)
        spec_hash = Optional(str, max_len=64, nullable=True)
        source = Optional(str, max_len=1000, nullable=True)
        owner = Optional(str, max_len=64, index=True, nullable=True)
        revision = Required(int, size=64, default=0, index=True)
        updated_at = Required(datetime, precision=6)
        composite_key(kind, namespace, name)

    class Heartbeat(db.Entity):  # type: ignore[name-defined]
        _table_ = "kk_heartbeats"
        id = PrimaryKey(int, size=64, auto=True)
        monitor_uid = Required(str, max_len=64)
        time = Required(datetime, precision=6)
        state = Required(str, max_len=16)
        ok = Required(bool)
        latency_ms = Optional(float)
        reason = Optional(str, max_len=2000, nullable=True)
        failure = Optional(str, max_len=32, nullable=True)
        details = Optional(Json, nullable=True)
        composite_index(monitor_uid, time)
        composite_index(monitor_uid, id)  # a monitor's newest beats, read on every transition

    class MonitorStateRow(db.Entity):  # type: ignore[name-defined]
        _table_ = "kk_monitor_state"
        uid = PrimaryKey(str, max_len=64)
        state = Required(str, max_len=16)
        since = Required(datetime, precision=6)
        failures = Required(int, default=0)
        reason = Optional(str, max_len=2000, nullable=True)
        failure = Optional(str, max_len=32, nullable=True)
        last_check_at = Optional(datetime, precision=6)
        latency_ms = Optional(float)
        details = Optional(Json, nullable=True)
        checks = Required(int, size=64, default=0)

    class Transition(db.Entity):  # type: ignore[name-defined]
        """The outbox: one row per state change, claimed once by handle_transition.

        `incident_id` and `event` are decided in the check's own transaction: the incident
        this change opened (event "down") or closed (event "up"), or none."""

        _table_ = "kk_transitions"
        id = PrimaryKey(int, size=64, auto=True)
        monitor_uid = Required(str, max_len=64, index=True)
        from_state = Optional(str, max_len=16, nullable=True)
        to_state = Required(str, max_len=16)
        at = Required(datetime, precision=6)
        reason = Optional(str, max_len=2000, nullable=True)
        failure = Optional(str, max_len=32, nullable=True)
        incident_id = Optional(int, size=64, nullable=True)
        event = Optional(str, max_len=16, nullable=True)
        status = Required(str, max_len=16, default="pending", index=True)  # TransitionStatus
        attempts = Required(int, default=0)
        claimed_at = Optional(datetime, precision=6)
        claimed_by = Optional(str, max_len=200, nullable=True)
        claim_token = Optional(str, max_len=64, nullable=True)
        handled_at = Optional(datetime, precision=6, index=True)
        note = Optional(str, max_len=500, nullable=True)  # why it was superseded or failed

    class Incident(db.Entity):  # type: ignore[name-defined]
        _table_ = "kk_incidents"
        id = PrimaryKey(int, size=64, auto=True)
        monitor_uid = Required(str, max_len=64, index=True)
        # Set to the monitor uid while open, NULL once closed: a unique key makes
        # "at most one open incident per monitor" a database guarantee.
        open_key = Optional(str, max_len=64, unique=True, nullable=True)
        opened_at = Required(datetime, precision=6)
        closed_at = Optional(datetime, precision=6)
        first_reason = Optional(str, max_len=2000, nullable=True)
        last_reason = Optional(str, max_len=2000, nullable=True)
        failure = Optional(str, max_len=32, nullable=True)
        opened_by = Optional(int, size=64)
        closed_by = Optional(int, size=64)
        close_reason = Optional(str, max_len=200, nullable=True)  # why it closed without a recovery
        acked_at = Optional(datetime, precision=6)  # acknowledged: reminders stop
        acked_by = Optional(str, max_len=200, nullable=True)  # who acknowledged it

    class Delivery(db.Entity):  # type: ignore[name-defined]
        _table_ = "kk_deliveries"
        id = PrimaryKey(int, size=64, auto=True)
        event_key = Required(str, max_len=200)
        provider_uid = Required(str, max_len=64)
        monitor_uid = Optional(str, max_len=64, index=True, nullable=True)
        event = Required(str, max_len=32)
        status = Required(str, max_len=16, index=True)  # DeliveryStatus
        attempts = Required(int, default=0)
        last_error = Optional(str, max_len=2000, nullable=True)
        title = Optional(str, max_len=1000, nullable=True)
        body = Optional(str, max_len=8000, nullable=True)
        created_at = Required(datetime, precision=6, index=True)
        sent_at = Optional(datetime, precision=6)  # when it went out; nothing else
        incident_id = Optional(int, size=64, nullable=True, index=True)
        claimed_at = Optional(datetime, precision=6)  # while `sending`: when the attempt started
        claim_token = Optional(str, max_len=64, nullable=True)  # while `sending`: whose attempt it is
        claim_holder = Optional(str, max_len=200, nullable=True)  # the process making that attempt
        next_at = Optional(datetime, precision=6)  # while `pending`: when the next attempt is due
        maybe_delivered = Required(bool, default=False)  # an attempt ended without a clear answer
        in_flight = Required(bool, default=False)  # the request of the current attempt has gone out
        composite_key(event_key, provider_uid)
        composite_index(monitor_uid, provider_uid, id)  # per-destination order

    class AuditEvent(db.Entity):  # type: ignore[name-defined]
        _table_ = "kk_audit_events"
        id = PrimaryKey(int, size=64, auto=True)
        at = Required(datetime, precision=6, index=True)
        actor = Required(str, max_len=200)
        action = Required(str, max_len=64)
        target = Optional(str, max_len=500, nullable=True)
        details = Optional(Json, nullable=True)

    class Session(db.Entity):  # type: ignore[name-defined]
        """A server-side login session. Only the SHA-256 of the cookie value is stored."""

        _table_ = "kk_sessions"
        id_hash = PrimaryKey(str, max_len=64)
        username = Required(str, max_len=200, index=True)
        role = Required(str, max_len=16)
        source = Required(str, max_len=16)  # local | oidc | initial
        fingerprint = Required(str, max_len=64)  # the user's definition when it logged in
        csrf_hash = Required(str, max_len=64)
        created_at = Required(datetime, precision=6)
        seen_at = Required(datetime, precision=6)
        address = Optional(str, max_len=100, nullable=True)

    class LoginFailure(db.Entity):  # type: ignore[name-defined]
        """Failed logins per key (`user:NAME` or `addr:IP`) in the current window, for throttling."""

        _table_ = "kk_login_failures"
        key = PrimaryKey(str, max_len=300)
        count = Required(int, default=0)
        window_start = Required(datetime, precision=6)

    class RecoveryCode(db.Entity):  # type: ignore[name-defined]
        """Single-use TOTP recovery codes, stored as SHA-256 hashes."""

        _table_ = "kk_recovery_codes"
        code_hash = PrimaryKey(str, max_len=64)
        username = Required(str, max_len=200, index=True)
        used_at = Optional(datetime, precision=6)

    class Uptime(db.Entity):  # type: ignore[name-defined]
        """Rollups of heartbeats per monitor and bucket; resolution m (minute), h (hour) or d (day)."""

        _table_ = "kk_uptime"
        monitor_uid = Required(str, max_len=64)
        resolution = Required(str, max_len=1)
        bucket = Required(datetime, precision=6)
        up = Required(int, default=0)
        down = Required(int, default=0)
        maintenance = Required(int, default=0)
        latency_sum = Required(float, default=0)
        latency_count = Required(int, default=0)
        PrimaryKey(monitor_uid, resolution, bucket)
