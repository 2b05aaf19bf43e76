"""Everything that talks to the database: Pony entities, a small repository per concern, migrations.

Callers never build queries: actors, the web app and the controller use the repositories
on a `Store`, which also owns the Pony `Database` so tests can open several side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

from pony.orm import db_session

from app.store.access import AuditRepo, AuditView, RecoveryCodeRepo, SessionRepo, SessionView, ThrottleRepo
from app.store.checks import CheckRepo, CheckToRecord, HeartbeatView, Recorded, StateView
from app.store.db import Migration, StoreError, open_database, schema_version
from app.store.deliveries import DeliveryRepo, DeliveryView
from app.store.incidents import IncidentRepo, IncidentView
from app.store.migrations import MIGRATIONS
from app.store.outage import is_outage
from app.store.push import PushRepo, PushToRecord
from app.store.resources import ResourceRecord, ResourceRepo, SyncResult
from app.store.rollups import HeartbeatPages, RollupRepo
from app.store.series import BriefState, SeriesRepo
from app.store.transitions import Claim, TransitionRepo, TransitionView


class Store:
    def __init__(self, url: str, migrations: Sequence[Migration] | None = None) -> None:
        self.url = url
        self.db, self.dialect = open_database(url, MIGRATIONS if migrations is None else migrations)
        self.resources = ResourceRepo(self.db)
        self.checks = CheckRepo(self.db, self.dialect)
        self.incidents = IncidentRepo(self.db)
        self.transitions = TransitionRepo(self.db)
        self.rollups = RollupRepo(self.db, self.dialect)
        self.heartbeat_pages = HeartbeatPages(self.db)
        self.series = SeriesRepo(self.db, self.dialect)
        self.push = PushRepo(self.db, self.checks)
        self.deliveries = DeliveryRepo(self.db)
        self.sessions = SessionRepo(self.db)
        self.throttle = ThrottleRepo(self.db)
        self.recovery_codes = RecoveryCodeRepo(self.db)
        self.audit = AuditRepo(self.db)

    def ping(self) -> bool:
        """True when the database answers (for /readyz)."""
        try:
            with db_session:
                self.db.select("SELECT 1")
            return True
        except Exception:
            return False

    def schema_version(self) -> int | None:
        return schema_version(self.db)

    def close(self) -> None:
        self.db.disconnect()


__all__ = [
    "AuditView",
    "BriefState",
    "CheckToRecord",
    "Claim",
    "DeliveryView",
    "HeartbeatView",
    "IncidentView",
    "PushToRecord",
    "Recorded",
    "ResourceRecord",
    "SessionView",
    "StateView",
    "Store",
    "StoreError",
    "SyncResult",
    "TransitionView",
    "is_outage",
]  # fmt: skip
