"""Schema changes since version 1, each a function of (database, dialect) run inside one transaction.

Pony creates missing tables but never alters one, so every new column of an existing
table is added here, with the index Pony would have made for it under the same name, so
an upgraded database and a new one end up alike.
"""

from __future__ import annotations

from pony.orm import Database

from app.store.db import Migration


def _types(dialect: str) -> dict[str, str]:
    if dialect == "postgres":
        return {"time": "TIMESTAMP", "false": "false"}
    return {"time": "DATETIME", "false": "0"}


def claims_and_incidents_in_the_check(db: Database, dialect: str) -> None:
    """Version 2: incidents are decided with the check; transitions and deliveries get real claims."""
    t = _types(dialect)
    for column in (
        "incident_id BIGINT",
        "event VARCHAR(16)",
        "status VARCHAR(16) NOT NULL DEFAULT 'pending'",
        "attempts INTEGER NOT NULL DEFAULT 0",
        "claim_token VARCHAR(64)",
        "note VARCHAR(500)",
    ):
        db.execute(f"ALTER TABLE kk_transitions ADD COLUMN {column}")
    db.execute("UPDATE kk_transitions SET status = 'handled' WHERE handled_at IS NOT NULL")
    # Transitions nobody handled before the upgrade made no incident; the new code opens
    # incidents with the check, so these are history, not news.
    db.execute(
        "UPDATE kk_transitions SET status = 'superseded', note = 'recorded before the upgrade to schema 2' "
        "WHERE handled_at IS NULL"
    )
    db.execute(
        "UPDATE kk_transitions SET event = 'down', incident_id = "
        "(SELECT i.id FROM kk_incidents i WHERE i.opened_by = kk_transitions.id) "
        "WHERE EXISTS (SELECT 1 FROM kk_incidents i WHERE i.opened_by = kk_transitions.id)"
    )
    db.execute(
        "UPDATE kk_transitions SET event = 'up', incident_id = "
        "(SELECT i.id FROM kk_incidents i WHERE i.closed_by = kk_transitions.id) "
        "WHERE EXISTS (SELECT 1 FROM kk_incidents i WHERE i.closed_by = kk_transitions.id)"
    )
    db.execute('CREATE INDEX "idx_kk_transitions__status" ON "kk_transitions" ("status")')

    for column in (
        "incident_id BIGINT",
        f"claimed_at {t['time']}",
        "claim_token VARCHAR(64)",
        "claim_holder VARCHAR(200)",
        f"next_at {t['time']}",
        f"maybe_delivered BOOLEAN NOT NULL DEFAULT {t['false']}",
        f"in_flight BOOLEAN NOT NULL DEFAULT {t['false']}",
    ):
        db.execute(f"ALTER TABLE kk_deliveries ADD COLUMN {column}")
    # sent_at meant the claim time while `sending`; it now means only "went out".
    db.execute("UPDATE kk_deliveries SET claimed_at = sent_at, sent_at = NULL WHERE status = 'sending'")
    db.execute("UPDATE kk_deliveries SET next_at = sent_at, sent_at = NULL WHERE status = 'pending'")
    for row_id, key in db.select("SELECT id, event_key FROM kk_deliveries WHERE event_key LIKE 'i:%' "
                                 "OR event_key LIKE 'r:%'"):  # fmt: skip
        parts = key.split(":")
        if len(parts) > 2 and parts[1].isdigit():
            db.execute(
                "UPDATE kk_deliveries SET incident_id = $i WHERE id = $id", {"i": int(parts[1]), "id": row_id}
            )
    db.execute('CREATE INDEX "idx_kk_deliveries__incident_id" ON "kk_deliveries" ("incident_id")')
    db.execute(
        'CREATE INDEX "idx_kk_deliveries__monitor_uid_provider_uid_id" '
        'ON "kk_deliveries" ("monitor_uid", "provider_uid", "id")'
    )
    db.execute("ALTER TABLE kk_incidents ADD COLUMN close_reason VARCHAR(200)")
    db.execute('CREATE INDEX "idx_kk_heartbeats__monitor_uid_id" ON "kk_heartbeats" ("monitor_uid", "id")')


def incident_acknowledgement(db: Database, dialect: str) -> None:
    """Version 3: an incident can be acknowledged (reminders stop); who did it is recorded."""
    t = _types(dialect)
    db.execute(f"ALTER TABLE kk_incidents ADD COLUMN acked_at {t['time']}")
    db.execute("ALTER TABLE kk_incidents ADD COLUMN acked_by VARCHAR(200)")


MIGRATIONS: list[Migration] = [
    (
        2,
        "incidents decided with the check; claims for transitions and deliveries",
        claims_and_incidents_in_the_check,
    ),
    (3, "incidents can be acknowledged", incident_acknowledgement),
]
