"""Which status pages exist, which monitors each one shows, and the maintenance that concerns them.

Rebuilt from the resource cache when its revision moves (checked at most once per
`ttl`), so a request never parses a spec. A page exposes exactly the monitors its groups
list — by name, or by label selector within the page's namespace — and badges exist
only for monitors that some page exposes. Maintenance windows (and their RRULE
recurrences) are read through `app.alerting.maintenance`, so a page shows exactly the
windows that mute alerts.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from app.alerting.maintenance import WindowView
from app.catalog import Catalog, MonitorEntry
from app.resources.kinds import MaintenanceWindowSpec, StatusPageSpec
from app.store import ResourceRecord, Store
from app.uptime.words import recurrence_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PageGroup:
    name: str
    monitors: list[MonitorEntry]


@dataclass(slots=True)
class Page:
    namespace: str
    name: str
    spec: StatusPageSpec
    groups: list[PageGroup]

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def monitors(self) -> list[MonitorEntry]:
        seen: dict[str, MonitorEntry] = {}
        for g in self.groups:
            for m in g.monitors:
                seen.setdefault(m.uid, m)
        return list(seen.values())


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One stretch of a MaintenanceWindow, in UTC, and the monitors it covers."""

    namespace: str
    name: str
    title: str
    description: str
    start: datetime
    end: datetime
    monitor_uids: frozenset[str]
    recurrence: str = ""  # in words ("daily at 03:00 UTC"); "" for a window that happens once


class PageIndex:
    def __init__(self, store: Store, catalog: Catalog, ttl: float = 1.0) -> None:
        self.store, self.catalog, self.ttl = store, catalog, ttl
        self._lock = threading.Lock()
        self._checked = 0.0
        self._revision = -1
        self._pages: dict[str, Page] = {}
        self._domains: dict[str, str] = {}
        self._public: frozenset[str] = frozenset()
        self._maintenance: list[tuple[WindowView, frozenset[str], str]] = []

    def refresh(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._checked < self.ttl:
                return
            self._checked = now
            rev = self.store.resources.revision()
            if rev == self._revision:
                return
            self.catalog.refresh(force=True)
            monitors = self.catalog.monitors()
            records = self.store.resources.list()
            pages = self._build_pages([r for r in records if r.kind == "StatusPage"], monitors)
            self._pages = pages
            self._domains = {d.lower(): slug for slug, p in pages.items() for d in p.spec.customDomains}
            self._public = frozenset(m.uid for p in pages.values() for m in p.monitors)
            self._maintenance = self._build_maintenance(
                [r for r in records if r.kind == "MaintenanceWindow"], monitors
            )
            self._revision = rev

    @staticmethod
    def _build_pages(records: list[ResourceRecord], monitors: list[MonitorEntry]) -> dict[str, Page]:
        by_name = {(m.namespace, m.name): m for m in monitors}
        pages: dict[str, Page] = {}
        for rec in sorted(records, key=lambda r: (r.namespace, r.name)):
            try:
                spec = StatusPageSpec.model_validate(rec.spec or {})
            except ValidationError:
                continue
            if spec.slug in pages:
                log.warning(
                    "status page %s/%s: slug %r is taken by another page", rec.namespace, rec.name, spec.slug
                )
                continue
            groups = []
            for g in spec.groups:
                chosen: dict[str, MonitorEntry] = {}
                for ref in g.monitors:
                    m = by_name.get((ref.namespace or rec.namespace, ref.name))
                    if m is not None:
                        chosen.setdefault(m.uid, m)
                if g.selector is not None:
                    for m in sorted(monitors, key=lambda m: m.name):
                        if m.namespace == rec.namespace and g.selector.matches(m.labels):
                            chosen.setdefault(m.uid, m)
                groups.append(PageGroup(g.name, list(chosen.values())))
            pages[spec.slug] = Page(rec.namespace, rec.name, spec, groups)
        return pages

    @staticmethod
    def _build_maintenance(
        records: list[ResourceRecord], monitors: list[MonitorEntry]
    ) -> list[tuple[WindowView, frozenset[str], str]]:
        """Each window with the monitors it covers (chosen exactly as the alerting engine chooses
        them) and its recurrence in words."""
        out = []
        for rec in records:
            try:
                view = WindowView(
                    rec.uid, rec.namespace, rec.name, MaintenanceWindowSpec.model_validate(rec.spec or {})
                )
            except (ValidationError, ValueError):
                continue
            spec = view.spec
            words = recurrence_text(spec.rrule, spec.start, spec.timezone) if spec.rrule else ""
            out.append((view, frozenset(m.uid for m in monitors if view.selects(m)), words))
        return out

    # -- reads --------------------------------------------------------------------------------
    def page(self, slug: str) -> Page | None:
        self.refresh()
        return self._pages.get(slug)

    def pages(self) -> list[Page]:
        self.refresh()
        return list(self._pages.values())

    def slug_for_host(self, host: str) -> str | None:
        self.refresh()
        return self._domains.get(host.lower())

    def is_public(self, uid: str) -> bool:
        self.refresh()
        return uid in self._public

    def maintenance(self, uids: set[str], now: datetime, horizon: timedelta) -> list[Occurrence]:
        """Running and upcoming stretches of the windows that cover any of `uids`, soonest first.

        Every stretch of a recurring window is listed; `next_per_window` keeps one line each."""
        self.refresh()
        out = []
        for view, covered, words in self._maintenance:
            hit = covered & uids
            if not hit:
                continue
            spec = view.spec
            for start, end in view.occurrences(now, now + horizon):  # RRULEs expand in the window's zone
                out.append(Occurrence(view.namespace, view.name, spec.title or view.name, spec.description,
                                      start, end, frozenset(hit), words))  # fmt: skip
        return sorted(out, key=lambda o: (o.start, o.name))


def next_per_window(occurrences: list[Occurrence], now: datetime) -> list[Occurrence]:
    """The first stretch of each window that starts after `now`: one line per window, soonest first."""
    seen: set[tuple[str, str]] = set()
    out = []
    for o in occurrences:
        if o.start > now and (o.namespace, o.name) not in seen:
            seen.add((o.namespace, o.name))
            out.append(o)
    return out
