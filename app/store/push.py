"""Push monitors' bookkeeping: when the last push arrived and when a run started.

Kept in the database (not process memory) so any web process can take a push and the
scheduled deadline check, run by any worker, sees it.
"""

from __future__ import annotations

from datetime import datetime

from pony.orm import Database, db_session

from app.store.timeutil import from_db, to_db


class PushRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _set(self, key: str, value: str) -> None:
        row = self.db.Meta.get_for_update(key=key)
        if row is None:
            self.db.Meta(key=key, value=value)
        else:
            row.value = value

    def mark_start(self, uid: str, at: datetime) -> None:
        with db_session:
            self._set(f"push-start:{uid}", to_db(at).isoformat())

    def take_start(self, uid: str) -> datetime | None:
        """The start of the running job, cleared as it is read (a run ends once)."""
        with db_session:
            row = self.db.Meta.get_for_update(key=f"push-start:{uid}")
            if row is None:
                return None
            value = row.value
            row.delete()
        return from_db(datetime.fromisoformat(value))

    def mark_push(self, uid: str, at: datetime) -> None:
        with db_session:
            self._set(f"push-last:{uid}", to_db(at).isoformat())

    def first_seen(self, uid: str, now: datetime) -> datetime:
        """When the deadline check first saw this monitor: the clock for a push that never came."""
        with db_session:
            row = self.db.Meta.get(key=f"push-seen:{uid}")
            if row is not None:
                return from_db(datetime.fromisoformat(row.value))
            self.db.Meta(key=f"push-seen:{uid}", value=to_db(now).isoformat())
            return now

    def last_push(self, uid: str) -> datetime | None:
        with db_session:
            row = self.db.Meta.get(key=f"push-last:{uid}")
            return from_db(datetime.fromisoformat(row.value)) if row else None
