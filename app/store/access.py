"""Rows behind access control: login sessions, failed-login counters, recovery codes and audit events.

Nothing secret is stored as it is: a session is found by the SHA-256 of its cookie value,
a recovery code by the SHA-256 of the code. Callers pass the hashes in; this module never
sees a cookie, a password or a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.store.timeutil import from_db, iso, to_db


@dataclass(slots=True, frozen=True)
class SessionView:
    id_hash: str
    username: str
    role: str
    source: str
    fingerprint: str
    csrf_hash: str
    created_at: datetime
    seen_at: datetime


def _session(r: Any) -> SessionView:
    return SessionView(r.id_hash, r.username, r.role, r.source, r.fingerprint, r.csrf_hash,
                       from_db(r.created_at), from_db(r.seen_at))  # fmt: skip


@dataclass(slots=True, frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": iso(self.at), "actor": self.actor, "action": self.action,
                "target": self.target, "details": self.details}  # fmt: skip


class SessionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, s: SessionView, address: str | None) -> None:
        with db_session:
            self.db.Session(
                id_hash=s.id_hash, username=s.username, role=s.role, source=s.source,
                fingerprint=s.fingerprint, csrf_hash=s.csrf_hash, created_at=to_db(s.created_at),
                seen_at=to_db(s.seen_at), address=(address or "")[:100] or None,
            )  # fmt: skip

    def get(self, id_hash: str) -> SessionView | None:
        with db_session:
            row = self.db.Session.get(id_hash=id_hash)
            return _session(row) if row else None

    def touch(self, id_hash: str, now: datetime) -> None:
        with db_session:
            self.db.execute("UPDATE kk_sessions SET seen_at = $t WHERE id_hash = $h",
                            {"t": to_db(now), "h": id_hash})  # fmt: skip

    def delete(self, id_hash: str) -> bool:
        with db_session:
            return bool(
                self.db.execute("DELETE FROM kk_sessions WHERE id_hash = $h", {"h": id_hash}).rowcount
            )

    def delete_user(self, username: str) -> int:
        with db_session:
            return int(
                self.db.execute("DELETE FROM kk_sessions WHERE username = $u", {"u": username}).rowcount
            )

    def prune(self, idle_before: datetime, created_before: datetime) -> int:
        with db_session:
            return int(self.db.execute(
                "DELETE FROM kk_sessions WHERE seen_at < $i OR created_at < $c",
                {"i": to_db(idle_before), "c": to_db(created_before)},
            ).rowcount)  # fmt: skip


class ThrottleRepo:
    """Failed logins counted per key in a fixed window that starts with the first failure."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def failures(self, keys: list[str], window_start_after: datetime) -> int:
        """The highest count among `keys` whose window is still open."""
        with db_session:
            rows = select(f for f in self.db.LoginFailure if f.key in keys)[:]
            cut = to_db(window_start_after)
            return max((r.count for r in rows if r.window_start > cut), default=0)

    def record(self, keys: list[str], now: datetime, window_start_after: datetime) -> None:
        with db_session:
            for key in keys:
                row = self.db.LoginFailure.get(key=key)
                if row is None:
                    self.db.LoginFailure(key=key, count=1, window_start=to_db(now))
                elif row.window_start <= to_db(window_start_after):
                    row.count, row.window_start = 1, to_db(now)
                else:
                    row.count += 1

    def prune(self, window_start_before: datetime) -> int:
        with db_session:
            return int(self.db.execute("DELETE FROM kk_login_failures WHERE window_start < $t",
                                       {"t": to_db(window_start_before)}).rowcount)  # fmt: skip

    def clear(self, key: str) -> None:
        with db_session:
            self.db.execute("DELETE FROM kk_login_failures WHERE key = $k", {"k": key})


class RecoveryCodeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(self, username: str, code_hashes: list[str]) -> None:
        with db_session:
            self.db.execute("DELETE FROM kk_recovery_codes WHERE username = $u", {"u": username})
            for h in code_hashes:
                self.db.RecoveryCode(code_hash=h, username=username)

    def use(self, username: str, code_hash: str, now: datetime) -> bool:
        """Spend a code once: a conditional update, so two logins racing with one code cannot both win."""
        with db_session:
            n = self.db.execute(
                "UPDATE kk_recovery_codes SET used_at = $t "
                "WHERE code_hash = $h AND username = $u AND used_at IS NULL",
                {"t": to_db(now), "h": code_hash, "u": username},
            ).rowcount
            return bool(n)


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, at: datetime, actor: str, action: str, target: str | None, details: dict[str, Any]) -> None:
        # Pony refuses a blank required string; an attempted username may be anything.
        actor = "".join(c for c in actor if c.isprintable()).strip()[:200] or "-"
        with db_session:
            self.db.AuditEvent(at=to_db(at), actor=actor, action=action[:64],
                               target=(target or "")[:500] or None, details=details)  # fmt: skip

    def list(
        self, limit: int = 100, before: int | None = None, action: str | None = None, actor: str | None = None
    ) -> list[AuditView]:
        with db_session:
            q = select(e for e in self.db.AuditEvent)
            if before:
                q = q.filter(lambda e: e.id < before)
            if action:
                q = q.filter(lambda e: e.action == action)
            if actor:
                q = q.filter(lambda e: e.actor == actor)
            return [
                AuditView(r.id, from_db(r.at), r.actor, r.action, r.target, r.details or {})
                for r in q.order_by(lambda e: desc(e.id))[:limit]
            ]
