"""The Falcon app factory. Dependencies come in as arguments; tests build it with real parts."""

from __future__ import annotations

from collections.abc import Callable

import falcon

from app.catalog import Catalog
from app.http import dashboard, mutations
from app.http.access import routes as access_routes
from app.http.access.middleware import Access, AccessMiddleware, AccessOptions
from app.http.alerts import register as register_alerts
from app.http.errors import handle_unexpected, serialize_error
from app.http.monitors import MonitorDetail, MonitorHeartbeats, MonitorList
from app.http.probe import Probe
from app.http.public import PublicOptions
from app.http.public import register as register_public
from app.http.push import PushEndpoint
from app.http.push import register as register_push
from app.http.security import BodyLimit, SecurityHeaders
from app.store import Store


class Health:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class Ready:
    def __init__(self, store: Store, broker_ok: Callable[[], bool]) -> None:
        self.store, self.broker_ok = store, broker_ok

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = {"database": self.store.ping(), "broker": self.broker_ok()}
        ok = all(checks.values())
        resp.status = falcon.HTTP_200 if ok else falcon.HTTP_503
        resp.media = {"status": "ok" if ok else "unavailable", "checks": checks}


class NotFoundSink:
    def __call__(self, req: falcon.Request, resp: falcon.Response, **kw: object) -> None:
        raise falcon.HTTPNotFound(title="Not found", description=f"no route for {req.method} {req.path}")


def create_app(
    store: Store,
    catalog: Catalog,
    broker_ok: Callable[[], bool] = lambda: True,
    push: PushEndpoint | None = None,
    public: PublicOptions | None = None,
    access: AccessOptions | None = None,
) -> falcon.App:
    app = falcon.App()
    app.add_middleware([SecurityHeaders(), BodyLimit()])
    # Closed by default: without options, nobody is known, so only public routes answer.
    gate = Access(store, access or AccessOptions())
    app.add_middleware([AccessMiddleware(gate)])
    app.req_options.strip_url_path_trailing_slash = True
    app.set_error_serializer(serialize_error)
    app.add_error_handler(Exception, handle_unexpected)
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(store, broker_ok))
    app.add_route("/api/v1/monitors", MonitorList(store, catalog))
    app.add_route("/api/v1/monitors/{namespace}/{name}", MonitorDetail(store, catalog))
    app.add_route("/api/v1/monitors/{namespace}/{name}/heartbeats", MonitorHeartbeats(store, catalog))
    dashboard.register(app, dashboard.Deps(store, catalog))
    app.add_route("/probe", Probe(store, catalog))
    if push is not None:
        register_push(app, push)
    register_public(app, store, catalog, public)
    register_alerts(app, store, catalog)
    access_routes.register(app, gate, gate.options.writer)
    mutations.register(app, store, gate.options.secrets, gate.options.writer, gate.audit, gate.clock)
    app.add_sink(NotFoundSink(), prefix="/api/")
    return app
