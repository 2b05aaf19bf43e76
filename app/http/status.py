"""Status pages: /status/{slug} (HTML), /api/v1/status/{slug} (JSON), /status/{slug}/feed.atom.

One builder makes the page's content; the HTML, the JSON and the feed are views of it.
Everything comes from rollups, monitor states, incidents and the resource cache — never
raw heartbeats — and each rendering is cached for a few seconds with single flight, so
a crowd costs one build. A page shows the monitors it lists and nothing about them that
is internal: no targets, no failure reasons, only a coarse failure class.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import falcon
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from app.http.cache import RenderCache, Rendered
from app.http.colors import text_on
from app.http.reads import bars, uptime_windows
from app.http.security import CSP
from app.http.statuspages import Occurrence, Page, PageIndex, next_per_window
from app.store import IncidentView, Store
from app.store.timeutil import iso
from app.uptime import Totals, format_percent, history_days, overall_status
from app.uptime.words import duration_text, span_text

BAR_DAYS = 90
HISTORY = timedelta(days=30)
UPCOMING = timedelta(days=30)
FEED_HISTORY = timedelta(days=90)
HISTORY_DAYS = 14  # incident history by day, quiet days included
PAGE_WINDOWS = {"24h": timedelta(hours=24), "90d": timedelta(days=90)}

templates = Environment(loader=PackageLoader("app.http", "templates"), autoescape=select_autoescape())
# "2024-05-01T12:30:15.123Z" -> "2024-05-01 12:30 UTC": what a visitor reads.
templates.filters["when"] = lambda t: f"{t[:10]} {t[11:16]} UTC" if t else ""


def day_bars_html(days: list[dict[str, Any]]) -> Markup:
    """The 90 bars of one monitor. Written here, not as a template loop: 90 bars x 50 monitors
    made the loop most of a page's build. Every value is ours (ISO dates, a level name, digits)."""
    out = []
    for d in days:
        if d["level"] == "before":
            out.append('<i class="before"></i>')  # before the first check: no data, and not history
        elif d["level"] == "none":
            out.append("<i></i>")  # no data: a bare bar keeps pages with long histories light
        else:
            text = f"{d['uptimePercent']} %" if d["uptimePercent"] else "maintenance"
            out.append(f'<i class="{d["level"]}" title="{d["date"]}: {text}"></i>')
    return Markup("".join(out))


templates.filters["day_bars"] = day_bars_html


class StatusBuilder:
    def __init__(self, store: Store, index: PageIndex, clock: Callable[[], datetime]) -> None:
        self.store, self.index, self.clock = store, index, clock

    def build(self, page: Page) -> dict[str, Any]:
        now = self.clock()
        monitors = page.monitors
        uids = [m.uid for m in monitors]
        states = self.store.rollups.states(uids)
        windows = uptime_windows(self.store, uids, PAGE_WINDOWS, now)
        day_bars = bars(self.store, uids, BAR_DAYS, now)
        names = {m.uid: m for m in monitors}
        maintenance = self.index.maintenance(set(uids), now, UPCOMING) if page.spec.showMaintenance else []
        active = [o for o in maintenance if o.start <= now]

        def monitor(uid: str) -> dict[str, Any]:
            m, st, days = names[uid], states.get(uid), day_bars[uid]
            history = [b for b in days if not b.before]
            uptime: dict[str, dict[str, Any]] = {
                w: {"uptime": windows[w][uid].ratio, "uptimePercent": format_percent(windows[w][uid].ratio)}
                for w in PAGE_WINDOWS
            }
            uptime["90d"]["days"] = history_days(days)
            return {
                "namespace": m.namespace,
                "name": m.name,
                "description": m.spec.description,
                "state": st.state if st else None,
                "since": iso(st.since) if st else None,
                "latencyMs": st.latency_ms if st else None,
                "uptime": uptime,
                # the first bar with history: the first check's day, or the first bar if older; None if never
                "monitoredSince": history[0].day.isoformat() if history else None,
                "days": [b.to_json() for b in days],
                "badges": self._badges(m.namespace, m.name) if page.spec.showBadges else None,
            }

        built = {uid: monitor(uid) for uid in uids}  # a monitor in two groups is built once
        overall = overall_status([s.state if (s := states.get(u)) else None for u in uids], bool(active))
        out: dict[str, Any] = {
            "slug": page.slug,
            "title": page.spec.title,
            "description": page.spec.description,
            "generatedAt": iso(now),
            "logo": page.spec.logo,
            "accentColor": page.spec.accentColor,
            "status": {"overall": overall.value, "text": overall.text},
            "groups": [
                {
                    "name": g.name,
                    "uptime": self._group_uptime([m.uid for m in g.monitors], windows),
                    "monitors": [built[m.uid] for m in g.monitors],
                }
                for g in page.groups
            ],
        }
        if page.spec.showIncidents:
            incidents = [
                self._incident(i, names) for i in self.store.rollups.incidents(uids, now - HISTORY, 50)
            ]
            out["incidents"] = {
                "open": [i for i in incidents if i["open"]],
                "recent": [i for i in incidents if not i["open"]][:20],
                "history": self._by_day(incidents, now),
            }
        if page.spec.showMaintenance:

            def occ(o: Occurrence) -> dict[str, Any]:
                return {
                    "name": o.name,
                    "title": o.title,
                    "description": o.description,
                    "start": iso(o.start),
                    "end": iso(o.end),
                    "when": span_text(o.start, o.end),
                    "recurrence": o.recurrence or None,
                    "monitors": sorted(names[u].name for u in o.monitor_uids),
                }

            out["maintenance"] = {
                "active": [occ(o) for o in active],
                "upcoming": [occ(o) for o in next_per_window(maintenance, now)][:10],
            }
        return out

    @staticmethod
    def _group_uptime(uids: list[str], windows: dict[str, dict[str, Totals]]) -> dict[str, Any]:
        """A group's uptime: all its monitors' checks together (each monitor once), so a monitor
        with more checks weighs more and one without any (or not yet existing) weighs nothing."""
        out = {}
        for w, per in windows.items():
            total = Totals()
            for uid in dict.fromkeys(uids):
                total = total.plus(per[uid])
            out[w] = {"uptime": total.ratio, "uptimePercent": format_percent(total.ratio)}
        return out

    @staticmethod
    def _by_day(incidents: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        """The last HISTORY_DAYS days, newest first, each with the incidents that began on it (UTC)."""
        today = now.astimezone(UTC).date()
        days: dict[str, list[dict[str, Any]]] = {
            (today - timedelta(days=n)).isoformat(): [] for n in range(HISTORY_DAYS)
        }
        for i in incidents:
            if i["openedAt"][:10] in days:
                days[i["openedAt"][:10]].append(i)
        return [{"date": d, "incidents": v} for d, v in days.items()]

    @staticmethod
    def _badges(namespace: str, name: str) -> dict[str, str]:
        base = f"/badge/{namespace}/{name}"
        return {
            "status": f"{base}/status.svg",
            "uptime": f"{base}/uptime.svg",
            "latency": f"{base}/latency.svg",
        }

    @staticmethod
    def _incident(i: IncidentView, names: dict[str, Any]) -> dict[str, Any]:
        m = names[i.monitor_uid]
        return {
            "id": i.id,
            "monitor": {"namespace": m.namespace, "name": m.name},
            "openedAt": iso(i.opened_at),
            "closedAt": iso(i.closed_at),
            "open": i.closed_at is None,
            "durationSeconds": i.duration_s,
            "duration": duration_text(i.duration_s) if i.duration_s is not None else None,
            "when": span_text(i.opened_at, i.closed_at),
            "failure": i.failure,
        }


def _not_found_html(slug: str) -> Rendered:
    body = templates.get_template("status_404.html").render(slug=slug)
    return Rendered.of(body, falcon.MEDIA_HTML, falcon.HTTP_404)


class _PageResource:
    max_age = 10

    def __init__(self, builder: StatusBuilder, cache: RenderCache) -> None:
        self.builder, self.cache = builder, cache

    def _key(self, req: falcon.Request) -> str:
        return f"{req.path}?{req.query_string}"


class StatusJson(_PageResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        def build() -> Rendered:
            page = self.builder.index.page(slug)
            if page is None:
                return Rendered.of(b"", falcon.MEDIA_JSON, falcon.HTTP_404)
            return Rendered.of(json.dumps(self.builder.build(page)), falcon.MEDIA_JSON, compress=True)

        r = self.cache.get(self._key(req), build)
        if r.status == falcon.HTTP_404:
            raise falcon.HTTPNotFound(title="Not found", description=f"no status page {slug!r}")
        r.write(req, resp, self.max_age)


def page_csp(logo: str | None) -> str:
    """The page's Content-Security-Policy: the usual one, plus the origin its logo comes from.

    The logo was validated (`StatusPageSpec.logo`) to a plain scheme, host and port, so the
    origin cannot smuggle another directive in."""
    if not logo or logo.startswith("data:"):
        return CSP
    parts = urlsplit(logo)
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {parts.scheme}://{parts.netloc}")


class StatusHtml(_PageResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        def build() -> Rendered:
            page = self.builder.index.page(slug)
            if page is None:
                return _not_found_html(slug)
            accent = page.spec.accentColor
            body = templates.get_template("status.html").render(
                page=self.builder.build(page), accent=accent, on_accent=text_on(accent) if accent else None
            )
            headers = {"Content-Security-Policy": page_csp(page.spec.logo)}
            return Rendered.of(body, falcon.MEDIA_HTML, compress=True, **headers)

        self.cache.get(self._key(req), build).write(req, resp, self.max_age)


class StatusFeed(_PageResource):
    """An Atom feed of a page's incidents, so people can follow a page in a feed reader.

    Links start with the configured public URL (KUBEKUMA_BASE_URL), never with the request's
    Host header: the feed is cached for everyone, so a forged Host must not end up in it.
    Without a base URL the links are relative to the feed.
    """

    max_age = 60

    def __init__(self, builder: StatusBuilder, cache: RenderCache, base_url: str = "") -> None:
        super().__init__(builder, cache)
        self.base_url = base_url.rstrip("/")

    def on_get(self, req: falcon.Request, resp: falcon.Response, slug: str) -> None:
        def build() -> Rendered:
            page = self.builder.index.page(slug)
            if page is None:
                return _not_found_html(slug)
            return Rendered.of(
                self.feed(page, self.base_url), "application/atom+xml; charset=utf-8", compress=True
            )

        self.cache.get(self._key(req), build).write(req, resp, self.max_age)

    def feed(self, page: Page, prefix: str) -> bytes:
        now = self.builder.clock()
        names = {m.uid: m for m in page.monitors}
        incidents = self.builder.store.rollups.incidents(list(names), now - FEED_HISTORY, limit=50)
        ns = "http://www.w3.org/2005/Atom"
        feed = ET.Element("feed", xmlns=ns)
        ET.SubElement(feed, "title").text = f"{page.spec.title} — incidents"
        ET.SubElement(feed, "id").text = f"urn:kubekuma:status:{page.namespace}:{page.slug}"
        ET.SubElement(feed, "link", href=f"{prefix}/status/{page.slug}", rel="alternate")
        ET.SubElement(feed, "link", href=f"{prefix}/status/{page.slug}/feed.atom", rel="self")
        newest = max((i.closed_at or i.opened_at for i in incidents), default=now)
        ET.SubElement(feed, "updated").text = iso(newest)
        ET.SubElement(ET.SubElement(feed, "author"), "name").text = "KubeKuma"
        for i in incidents:
            m = names[i.monitor_uid]
            entry = ET.SubElement(feed, "entry")
            state = "resolved" if i.closed_at else "ongoing"
            ET.SubElement(entry, "title").text = f"{m.name}: outage ({state})"
            ET.SubElement(entry, "id").text = f"urn:kubekuma:incident:{i.id}"
            ET.SubElement(entry, "updated").text = iso(i.closed_at or i.opened_at)
            ET.SubElement(entry, "published").text = iso(i.opened_at)
            ET.SubElement(entry, "link", href=f"{prefix}/status/{page.slug}", rel="alternate")
            text = f"{m.name} ({m.namespace}) was down from {iso(i.opened_at)}"
            text += f" to {iso(i.closed_at)}." if i.closed_at else "; the incident is still open."
            if i.failure:
                text += f" Failure class: {i.failure}."
            ET.SubElement(entry, "summary").text = text
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


class CustomDomains:
    """Middleware: a page's custom domain serves that page and its assets, and nothing else.

    `/` is the page and `/feed.atom` its feed; the page's own links (its JSON, its feed, the
    badges of its monitors) work too. Every other path is a 404 there, so a custom domain
    (often on a different, less guarded name) never exposes the API or the dashboard. Hosts
    that are no page's custom domain are served as usual.
    """

    def __init__(self, index: PageIndex) -> None:
        self.index = index

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        slug = self.index.slug_for_host(req.host)
        if slug is None:
            return
        if req.path in ("/", "/feed.atom"):
            req.path = f"/status/{slug}" + ("/feed.atom" if req.path == "/feed.atom" else "")
        elif not self._serves(slug, req.path):
            raise falcon.HTTPNotFound(title="Not found", description="this domain serves one status page")

    def _serves(self, slug: str, path: str) -> bool:
        if path in (f"/status/{slug}", f"/status/{slug}/feed.atom", f"/api/v1/status/{slug}"):
            return True
        parts = path.split("/")  # "", "badge", namespace, name, "status.svg"
        if len(parts) != 5 or parts[1] != "badge":
            return False
        page = self.index.page(slug)
        return page is not None and any((m.namespace, m.name) == (parts[2], parts[3]) for m in page.monitors)
