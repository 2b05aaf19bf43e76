"""The system under test as real processes, and a read-only view of what it recorded.

`Processes` starts `kubekuma <role>` processes with one environment, kills them with
SIGKILL when a scenario says so, restarts them, and tells which ones exited without being
killed. `Records` reads incidents, transitions and deliveries from PostgreSQL or SQLite,
relying only on the columns the alert path keeps (id, monitor_uid, closed_at, event_key,
status; from_state, to_state and handled_at of transitions).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg2
import requests

from tests.access import READER
from tests.faults.ledger import Delivery, Incident

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**settings: str) -> dict[str, str]:
    """The test's environment without any KUBEKUMA_ setting of its own, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBEKUMA_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update({f"KUBEKUMA_{k.upper()}": v for k, v in settings.items()})
    return env


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.roles: dict[str, str] = {}
        self.killed: set[str] = set()  # exits the test caused
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, role: str) -> None:
        self.roles[name] = role
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it
        env = {**self.env, "KUBEKUMA_INSTANCE_ID": name}
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "app.cli", role], env=env, stdout=log, stderr=log, cwd=ROOT
        )
        log.close()
        self.killed.discard(name)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        self.killed.add(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def restart(self, name: str) -> None:
        self.start(name, self.roles[name])

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def unexpected_exits(self) -> dict[str, int | None]:
        return {
            n: p.returncode for n, p in self.procs.items() if n not in self.killed and p.poll() is not None
        }

    def heal(self) -> list[str]:
        """Restart whatever is not running (after a failed scenario), so the next one starts whole."""
        dead = [n for n, p in self.procs.items() if p.poll() is not None]
        for n in dead:
            self.restart(n)
        return dead

    def log_tail(self, name: str, chars: int = 1500) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def monitors(base_url: str) -> dict[str, dict[str, Any]]:
    """name -> the API's monitor (uid, state, lastCheckTime); {} while the web role cannot answer."""
    try:
        r = requests.get(base_url + "api/v1/monitors", timeout=3, headers=READER)
        return {m["name"]: m for m in r.json()["items"]} if r.status_code == 200 else {}
    except (requests.RequestException, ValueError, KeyError):
        return {}


def check_time(m: dict[str, Any]) -> float:
    t = m.get("lastCheckTime")
    return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() if t else 0.0


class Records:
    """Read-only queries on the system's database (PostgreSQL URL or SQLite path)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.url.startswith("sqlite:///"):
            path = self.url.removeprefix("sqlite:///")
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            try:
                return list(conn.execute(sql.replace("%s", "?"), args).fetchall())
            finally:
                conn.close()
        pg = psycopg2.connect(self.url, connect_timeout=3)
        try:
            pg.set_session(readonly=True, autocommit=True)
            with pg.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            pg.close()

    def max_ids(self) -> tuple[int, int, int]:
        """The newest incident, transition and delivery ids, marking where a window starts or ends."""
        return tuple(  # type: ignore[return-value]
            int(self._rows(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0])
            for table in ("kk_incidents", "kk_transitions", "kk_deliveries")
        )

    def incidents(self, after: int, upto: int) -> list[Incident]:
        rows = self._rows(
            "SELECT id, monitor_uid, closed_at FROM kk_incidents WHERE id > %s AND id <= %s", (after, upto)
        )
        return [Incident(int(i), uid, closed is not None) for i, uid, closed in rows]

    def open_incidents(self, after: int) -> list[str]:
        """Monitor uids of the incidents opened after `after` that are still open."""
        sql = "SELECT monitor_uid FROM kk_incidents WHERE closed_at IS NULL AND id > %s"
        return [uid for (uid,) in self._rows(sql, (after,))]

    def transitions(self, after: int, upto: int) -> tuple[Counter[str], Counter[str]]:
        """(all transitions, those entering DOWN) per monitor uid."""
        rows = self._rows(
            "SELECT monitor_uid, from_state, to_state FROM kk_transitions WHERE id > %s AND id <= %s",
            (after, upto),
        )
        every: Counter[str] = Counter(uid for uid, _, _ in rows)
        downs: Counter[str] = Counter(uid for uid, f, t in rows if t == "DOWN" and f != "DOWN")
        return every, downs

    def unhandled_transitions(self, after: int) -> int:
        """Transitions of the window no worker has finished (the sweeper re-sends them after 60 s).

        Where transitions have a `status`, one that `failed` or was `superseded` is finished too.
        """
        sql = "SELECT COUNT(*) FROM kk_transitions WHERE handled_at IS NULL AND id > %s"
        try:
            return int(self._rows(sql + " AND status = 'pending'", (after,))[0][0])
        except (psycopg2.Error, sqlite3.Error):  # a schema without transition statuses
            return int(self._rows(sql, (after,))[0][0])

    def deliveries(self) -> list[Delivery]:
        return [Delivery(k, s) for k, s in self._rows("SELECT event_key, status FROM kk_deliveries")]

    def unfinished_deliveries(self, after: int) -> int:
        """Deliveries of the window still to be tried (the sender's retries are part of settling)."""
        sql = "SELECT COUNT(*) FROM kk_deliveries WHERE status = 'pending' AND id > %s"
        return int(self._rows(sql, (after,))[0][0])
