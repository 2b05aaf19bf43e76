"""README badges in the shields.io "flat" style: status, uptime, latency and certificate days left.

Text widths come from a per-character table of Verdana at 11 px (what shields.io
measures with), so badges look right without a font on the server. Only monitors shown
on some status page have badges: a badge is public, and so must be what it tells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from xml.sax.saxutils import escape

import falcon

from app.catalog import Catalog, MonitorEntry
from app.http.cache import RenderCache, Rendered
from app.http.errors import bad_request
from app.http.reads import certificate, uptime_windows
from app.http.statuspages import PageIndex
from app.store import Store
from app.uptime import WINDOWS, format_percent

# Advance widths (px) of Verdana at 11px for printable ASCII, space to "~", in order.
_CHARS = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
_ADVANCES = (
    "3.87 4.33 5.05 9.0 6.99 11.84 7.99 2.95 4.99 4.99 6.99 9.0 4.0 4.99 4.0 4.99 "
    "6.99 6.99 6.99 6.99 6.99 6.99 6.99 6.99 6.99 6.99 4.99 4.99 9.0 9.0 9.0 6.0 11.0 "
    "7.52 7.54 7.68 8.48 6.96 6.32 8.53 8.27 4.63 5.0 7.62 6.12 9.27 8.23 8.66 6.63 8.66 "
    "7.65 7.52 6.78 8.05 7.52 10.88 7.54 6.77 7.54 4.99 4.99 4.99 9.0 6.99 6.99 "
    "6.61 6.85 5.73 6.85 6.55 3.87 6.85 6.96 3.02 3.79 6.51 3.02 10.7 6.96 6.68 6.85 6.85 "
    "4.69 5.73 4.33 6.96 6.51 8.98 6.51 6.51 5.78 6.98 4.99 6.98 9.0"
)
_WIDTHS = dict(zip(_CHARS, map(float, _ADVANCES.split()), strict=True))
_DEFAULT_WIDTH = 7.0

COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": "#9f9f9f",
}


# Characters XML 1.0 does not allow (C0 controls but tab/newline/return, surrogates, U+FFFE/F), and C1
# controls and the newline family, which only make a one-line label misbehave.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029]")
_QUOTES = {'"': "&quot;", "'": "&apos;"}


def svg_text(text: str) -> str:
    """Text safe in SVG element content and in quoted attributes: control characters dropped, quotes too."""
    return escape(_NOT_TEXT.sub("", text), _QUOTES)


def text_width(text: str) -> float:
    return sum(_WIDTHS.get(ch, _DEFAULT_WIDTH) for ch in text)


def render_badge(label: str, message: str, color: str) -> str:
    """A flat badge: grey label on the left, coloured message on the right, 20 px high."""
    fill = COLORS.get(color, "#9f9f9f")
    label, message = _NOT_TEXT.sub("", label), _NOT_TEXT.sub("", message)
    lw, mw = round(text_width(label)) + 10, round(text_width(message)) + 10
    total = lw + mw
    lab, msg = svg_text(label), svg_text(message)
    title = f"{lab}: {msg}"

    def text(s: str, x: float, width: float) -> str:
        # Drawn at 10x and scaled down, as shields.io does, for crisp sub-pixel placement.
        x10, w10 = round(x * 10), round(width * 10)
        return (
            f'<text aria-hidden="true" x="{x10}" y="150" fill="#010101" fill-opacity=".3" '
            f'transform="scale(.1)" textLength="{w10}">{s}</text>'
            f'<text x="{x10}" y="140" transform="scale(.1)" fill="#fff" textLength="{w10}">{s}</text>'
        )

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}">'
        f"<title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{fill}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="110">'
        f"{text(lab, lw / 2, lw - 10)}{text(msg, lw + mw / 2, mw - 10)}</g></svg>"
    )


def uptime_color(ratio: float | None) -> str:
    if ratio is None:
        return "lightgrey"
    for floor_, color in (
        (0.999, "brightgreen"),
        (0.99, "green"),
        (0.97, "yellowgreen"),
        (0.95, "yellow"),
        (0.90, "orange"),
    ):
        if ratio >= floor_:
            return color
    return "red"


def latency_color(ms: float | None) -> str:
    if ms is None:
        return "lightgrey"
    return "brightgreen" if ms < 100 else "green" if ms < 300 else "yellow" if ms < 1000 else "orange"


def cert_color(days: int | None) -> str:
    if days is None:
        return "lightgrey"
    return (
        "brightgreen"
        if days > 30
        else "green"
        if days > 14
        else "yellow"
        if days > 7
        else ("orange" if days > 0 else "red")
    )


STATE_BADGE = {
    "UP": ("up", "brightgreen"),
    "DOWN": ("down", "red"),
    "PENDING": ("pending", "yellow"),
    "MAINTENANCE": ("maintenance", "blue"),
}


class Badges:
    """/badge/{namespace}/{name}/{status,uptime,latency,cert}.svg (one responder per suffix)."""

    max_age = 60

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        index: PageIndex,
        cache: RenderCache,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.catalog, self.index, self.cache, self.clock = store, catalog, index, cache, clock

    def _serve(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        namespace: str,
        name: str,
        make: Callable[[MonitorEntry], tuple[str, str, str]],
    ) -> None:
        m = self.catalog.by_name(namespace, name)
        if m is None or not self.index.is_public(m.uid):
            raise falcon.HTTPNotFound(title="Not found", description=f"no public monitor {namespace}/{name}")
        label = req.get_param("label")
        if label is not None and not 0 < len(label) <= 60:
            raise bad_request("label", "must be 1 to 60 characters")

        def build() -> Rendered:
            default_label, message, color = make(m)
            return Rendered.of(render_badge(label or default_label, message, color), "image/svg+xml")

        self.cache.get(f"{req.path}?{req.query_string}", build).write(req, resp, self.max_age)

    def _window(self, req: falcon.Request) -> str:
        window = req.get_param("window", default="24h")
        if window not in WINDOWS:
            raise bad_request("window", f"must be one of {', '.join(WINDOWS)}")
        return window

    def on_get_status(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        def make(m: MonitorEntry) -> tuple[str, str, str]:
            st = self.store.rollups.states([m.uid]).get(m.uid)
            message, color = STATE_BADGE.get(st.state if st else "", ("unknown", "lightgrey"))
            return "status", message, color

        self._serve(req, resp, namespace, name, make)

    def on_get_uptime(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        window = self._window(req)

        def make(m: MonitorEntry) -> tuple[str, str, str]:
            t = uptime_windows(self.store, [m.uid], {window: WINDOWS[window]}, self.clock())[window][m.uid]
            text = format_percent(t.ratio)
            return f"uptime {window}", f"{text}%" if text else "no data", uptime_color(t.ratio)

        self._serve(req, resp, namespace, name, make)

    def on_get_latency(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        window = self._window(req)

        def make(m: MonitorEntry) -> tuple[str, str, str]:
            t = uptime_windows(self.store, [m.uid], {window: WINDOWS[window]}, self.clock())[window][m.uid]
            ms = t.avg_latency_ms
            return f"latency {window}", f"{ms:.0f} ms" if ms is not None else "no data", latency_color(ms)

        self._serve(req, resp, namespace, name, make)

    def on_get_cert(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        def make(m: MonitorEntry) -> tuple[str, str, str]:
            st = self.store.rollups.states([m.uid]).get(m.uid)
            cert = certificate(st.details if st else None, self.clock())
            if cert is None or cert.get("daysLeft") is None:
                return "certificate", "no data", "lightgrey"
            days = int(cert["daysLeft"])
            return "certificate", "expired" if cert.get("expired") else f"{days} days", cert_color(days)

        self._serve(req, resp, namespace, name, make)
