"""Everything a visitor, a script or Prometheus reads, registered on the app in one place.

`register(app, store, catalog, options)` adds the uptime API, resources, OpenAPI, status
pages (with custom domains), badges and /metrics, plus conditional GETs on every read.
The options carry what differs between processes and tests: the clock, the render
cache and the metrics registry (shared with the worker in the embedded default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import falcon
from prometheus_client import CollectorRegistry

from app.catalog import Catalog
from app.http.badges import Badges
from app.http.cache import RenderCache
from app.http.etags import ConditionalGet
from app.http.metrics import MetricsEndpoint, MonitorCollector, PipelineCollector, PipelineSources
from app.http.monitors import MonitorUptime
from app.http.openapi import OpenApi
from app.http.resources_api import ResourceList
from app.http.status import CustomDomains, StatusBuilder, StatusFeed, StatusHtml, StatusJson
from app.http.statuspages import PageIndex
from app.model import utc_now
from app.store import Store


@dataclass
class PublicOptions:
    clock: Callable[[], datetime] = utc_now
    # Rendered pages, page JSON and badges are served from memory for this long (10 s).
    cache: RenderCache = field(default_factory=RenderCache)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    pipeline: PipelineSources = field(default_factory=PipelineSources)
    # The public URL (KUBEKUMA_BASE_URL) for absolute links; never taken from the Host header.
    base_url: str = ""


def register(app: falcon.App, store: Store, catalog: Catalog, options: PublicOptions | None = None) -> None:
    opts = options or PublicOptions()
    index = PageIndex(store, catalog)
    cache = opts.cache
    builder = StatusBuilder(store, index, opts.clock)
    app.add_middleware([CustomDomains(index), ConditionalGet()])
    app.add_route("/api/v1/uptime/{namespace}/{name}", MonitorUptime(store, catalog, opts.clock))
    resources = ResourceList(store)
    app.add_route("/api/v1/resources", resources)
    app.add_route("/api/v1/resources/{kind}", resources, suffix="kind")
    app.add_route("/api/v1/openapi.json", OpenApi())
    app.add_route("/api/v1/status/{slug}", StatusJson(builder, cache))
    app.add_route("/status/{slug}", StatusHtml(builder, cache))
    app.add_route("/status/{slug}/feed.atom", StatusFeed(builder, cache, opts.base_url))
    badges = Badges(store, catalog, index, cache, opts.clock)
    for kind in ("status", "uptime", "latency", "cert"):
        app.add_route(f"/badge/{{namespace}}/{{name}}/{kind}.svg", badges, suffix=kind)
    opts.registry.register(MonitorCollector(store, catalog, opts.clock))
    opts.registry.register(PipelineCollector(opts.pipeline))
    app.add_route("/metrics", MetricsEndpoint(opts.registry))
