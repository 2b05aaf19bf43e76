"""Reading Uptime Kuma: its SQLite database (2.x, 1.23) or a 1.x JSON backup, into one shape.

The shape is the database's own: rows of `monitor`, `notification`, `status_page` and
`maintenance` with snake_case columns, plus each monitor's tags and notification ids. The
backup's camelCase keys are converted, so the mapping in `kuma.py` reads one format.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class KumaData:
    monitors: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    status_pages: list[dict[str, Any]] = field(default_factory=list)
    maintenances: list[dict[str, Any]] = field(default_factory=list)


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def read_backup(path: Path) -> KumaData:
    """A 1.x backup (Settings > Backup > Export): notificationList and monitorList."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    data = KumaData()
    for n in doc.get("notificationList") or []:
        config = n.get("config")
        data.notifications.append(
            {
                "id": n.get("id"),
                "name": n.get("name"),
                "active": n.get("active", True),
                "is_default": n.get("isDefault", False),
                "config": json.loads(config) if isinstance(config, str) else config or {},
            }
        )
    for m in doc.get("monitorList") or []:
        row = {_snake(k): v for k, v in m.items() if k not in ("tags", "notificationIDList")}
        row["accepted_statuscodes"] = m.get("accepted_statuscodes") or ["200-299"]
        row["tags"] = [(t.get("name", ""), t.get("value") or "") for t in m.get("tags") or []]
        row["notifications"] = [int(k) for k, on in (m.get("notificationIDList") or {}).items() if on]
        data.monitors.append(row)
    return data


def _rows(db: sqlite3.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    try:
        return [dict(r) for r in db.execute(sql, args)]
    except sqlite3.OperationalError:  # a table this version does not have
        return []


def read_database(path: Path) -> KumaData:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    data = KumaData()
    try:
        for n in _rows(db, "SELECT * FROM notification"):
            n["config"] = json.loads(n.get("config") or "{}")
            data.notifications.append(n)
        tags: dict[int, list[tuple[str, str]]] = {}
        for t in _rows(
            db, "SELECT mt.monitor_id, t.name, mt.value FROM monitor_tag mt JOIN tag t ON t.id = mt.tag_id"
        ):
            tags.setdefault(t["monitor_id"], []).append((t["name"], t["value"] or ""))
        links: dict[int, list[int]] = {}
        for link in _rows(db, "SELECT monitor_id, notification_id FROM monitor_notification"):
            links.setdefault(link["monitor_id"], []).append(link["notification_id"])
        for m in _rows(db, "SELECT * FROM monitor ORDER BY id"):
            m["accepted_statuscodes"] = json.loads(m.get("accepted_statuscodes_json") or '["200-299"]')
            m["tags"], m["notifications"] = tags.get(m["id"], []), links.get(m["id"], [])
            data.monitors.append(m)
        for page in _rows(db, "SELECT * FROM status_page ORDER BY id"):
            page["groups"] = []
            for g in _rows(db, "SELECT * FROM `group` WHERE status_page_id = ? ORDER BY weight", page["id"]):
                ids = _rows(
                    db, "SELECT monitor_id FROM monitor_group WHERE group_id = ? ORDER BY weight", g["id"]
                )
                page["groups"].append({"name": g["name"], "monitors": [r["monitor_id"] for r in ids]})
            page["domains"] = [
                r["domain"]
                for r in _rows(
                    db, "SELECT domain FROM status_page_cname WHERE status_page_id = ?", page["id"]
                )
            ]
            data.status_pages.append(page)
        for mw in _rows(db, "SELECT * FROM maintenance ORDER BY id"):
            mw["monitors"] = [
                r["monitor_id"]
                for r in _rows(
                    db, "SELECT monitor_id FROM monitor_maintenance WHERE maintenance_id = ?", mw["id"]
                )
            ]
            data.maintenances.append(mw)
    finally:
        db.close()
    return data


def read(path: Path) -> KumaData:
    """A kuma.db (SQLite) or a JSON backup, told apart by their first bytes."""
    with path.open("rb") as fh:
        head = fh.read(16)
    return read_database(path) if head.startswith(b"SQLite format 3") else read_backup(path)
