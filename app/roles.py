"""Assembling the four roles from the settings: which store, broker, lease and guard each gets.

`run` puts all four in one process (SQLite, in-memory broker, an always-held local lease);
the separate roles scale out on Redis and PostgreSQL. Only this module and the CLI know
which concrete parts are in use; everything below receives them as arguments.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import prometheus_client
import redis
import waitress
from dramatiq.brokers.redis import RedisBroker
from prometheus_client import CollectorRegistry

from app.actors import Actors, Runtime, register_actors
from app.actors.alerts import register_alert_actors
from app.actors.broker import (
    ALERT_QUEUE,
    CHECK_QUEUE,
    QUEUES,
    TRANSITION_QUEUE,
    broker_ok,
    make_broker,
    queue_depth,
)
from app.actors.checks import guard_ttl
from app.actors.periodic import periodic_jobs
from app.actors.pool import CheckPool
from app.actors.runtime import default_identity
from app.catalog import Catalog
from app.config import Settings
from app.controller.folder import FolderController, FolderSecrets
from app.controller.kube.runtime import ElectedController, KubeParts
from app.coord import (
    Elector,
    InflightGuard,
    Liveness,
    LocalGuard,
    LocalLease,
    LocalLiveness,
    RedisGuard,
    RedisLease,
    RedisLiveness,
    start_beating,
)  # fmt: skip
from app.coord.lease import Lease
from app.http.access import initial
from app.http.access.directory import User
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.metrics import PipelineCollector, PipelineSources, WorkerMetrics
from app.http.public import PublicOptions
from app.http.push import PushEndpoint
from app.http.security import SERVER_LIMITS
from app.resources.common import SecretKeyRef
from app.resources.loader import SecretStore
from app.resources.writer import FolderWriter, ResourceWriter
from app.scheduler import MonitorScheduler
from app.store import Store

log = logging.getLogger(__name__)

LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 15.0, 10.0, 2.0


@dataclass
class Parts:
    settings: Settings
    store: Store
    catalog: Catalog
    secrets: SecretStore
    broker: dramatiq.Broker
    guard: InflightGuard
    identity: str
    liveness: Liveness
    redis: redis.Redis | None = None
    # This process's Prometheus registry: web, worker and scheduler figures meet here when embedded.
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    scheduler: MonitorScheduler | None = None
    kube: KubeParts | None = None  # set in Kubernetes mode (app/controller/kube/settings.py)
    # The first-start admin and where its password is (a file or a Secret), once serve_web made it.
    initial_admin: tuple[User, str, bool] | None = None

    def lease(self, name: str) -> Lease:
        if self.kube is not None:
            return self.kube.lease(name, self.identity, LEASE_DURATION)
        if self.redis is None:
            return LocalLease(self.identity)
        name = f"{self.settings.redis_namespace}:{name}"
        return RedisLease(self.redis, name, self.identity, LEASE_DURATION)


def build_parts(settings: Settings, kubernetes: bool = False) -> Parts:
    kube = KubeParts.detect(settings.manifests, force=kubernetes)
    store = Store(settings.database_url)
    broker = make_broker(settings.redis_url, settings.redis_namespace)
    client = broker.client if isinstance(broker, RedisBroker) else None
    ns = settings.redis_namespace
    liveness: Liveness = RedisLiveness(client, f"{ns}:") if client is not None else LocalLiveness()
    guard: InflightGuard = (
        RedisGuard(client, f"{ns}:inflight:", liveness) if client is not None else LocalGuard()
    )
    identity = settings.instance_id or default_identity()
    secrets = kube.secrets() if kube is not None else SecretStore(allowed_env=settings.allowed_env_names)
    return Parts(
        settings, store, Catalog(store), secrets, broker, guard, identity, liveness, client, kube=kube
    )


def build_actors(parts: Parts) -> Actors:
    rt = Runtime(
        store=parts.store,
        catalog=parts.catalog,
        secrets=parts.secrets,
        guard=parts.guard,
        identity=parts.identity,
        kube=parts.kube.api if parts.kube is not None else None,
        liveness=parts.liveness,
        # One pool per process runs every batch's checks: Dramatiq's check threads only hand it
        # batches and wait, so checks in flight stay at worker_threads + check_pool_threads.
        pool=CheckPool(parts.settings.check_pool_threads),
    )
    alerts = register_alert_actors(parts.broker, rt)
    rt.in_maintenance = alerts.in_maintenance
    actors = register_actors(parts.broker, rt, hooks=[alerts.on_transition])
    actors.extra.update(deliver=alerts.deliver, probe_provider=alerts.probe_provider)
    actors.periodic.extend(periodic_jobs(actors, alerts))
    return actors


class _SecondWorkerFilter(logging.Filter):
    """Two Workers on one broker each add their own consumer middleware; that is intended here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "middleware of the same type twice" not in record.getMessage()


def start_workers(parts: Parts, threads: int, stop: threading.Event | None = None) -> list[dramatiq.Worker]:
    """Checks, transitions and deliveries get separate thread pools: a slow provider delays neither a
    check nor incident news. The process beats its liveness while the workers run."""
    logging.getLogger("dramatiq.broker").addFilter(_SecondWorkerFilter())
    for name in ("dramatiq.broker.RedisBroker", "dramatiq.broker.StubBroker"):
        logging.getLogger(name).addFilter(_SecondWorkerFilter())
    parts.broker.add_middleware(WorkerMetrics(parts.metrics))
    start_beating(parts.liveness, parts.identity, stop or threading.Event())
    workers = [
        dramatiq.Worker(parts.broker, queues={CHECK_QUEUE}, worker_threads=threads, worker_timeout=100),
        # Handling a transition is a few short transactions: threads overlap their round trips
        # when many monitors change at once.
        dramatiq.Worker(
            parts.broker, queues={TRANSITION_QUEUE}, worker_threads=max(2, threads // 2), worker_timeout=100
        ),
        dramatiq.Worker(
            parts.broker, queues={ALERT_QUEUE}, worker_threads=max(2, threads // 4), worker_timeout=100
        ),
    ]
    for w in workers:
        w.queue_prefetch = w.worker_threads  # fewer messages stranded with a worker that dies
        w.start()
    return workers


def start_scheduler(parts: Parts, actors: Actors, elected: bool) -> tuple[MonitorScheduler, Elector | None]:
    # One check_batch message per slot's chunk of due monitors (the periodic jobs still send single checks).
    sched = MonitorScheduler(
        parts.catalog,
        enqueue=None,
        guard=parts.guard,
        guard_ttl=guard_ttl,
        periodic=actors.periodic,
        enqueue_batch=actors.enqueue_batch,
        slot_s=parts.settings.scheduler_slot_ms / 1000,
        batch_max=parts.settings.scheduler_batch_max,
    )
    parts.scheduler = sched
    if not elected:
        sched.start(leading=True)
        return sched, None
    sched.start(leading=False)
    elector = Elector(parts.lease("scheduler"), sched.lead, sched.follow, RENEW_DEADLINE, RETRY_PERIOD)
    elector.start()
    return sched, elector


def manifest_writer(parts: Parts) -> ResourceWriter | None:
    """Where API mutations go: the manifests folder, else the Kubernetes API, else nowhere."""
    if parts.settings.manifests:
        return FolderWriter(parts.settings.manifests)
    if parts.kube is not None:
        from app.controller.kube.manifests import KubeManifestWriter

        return KubeManifestWriter(parts.kube.api)
    return None


def initial_admin(parts: Parts, writer: ResourceWriter | None) -> tuple[User, str, bool]:
    """The first-start admin (used only while no LocalUser and no OIDC exist), where its password is,
    and whether it was just created."""
    kube = parts.kube
    if kube is not None and not parts.settings.manifests and writer is not None:
        ns = kube.namespace
        ref = SecretKeyRef(name=initial.SECRET_NAME, key="password", optional=True)
        password, created = initial.secret_password(
            lambda: parts.secrets.get(ref, ns),
            lambda pw: writer.apply_secret(
                ns, initial.SECRET_NAME, {"username": initial.USERNAME, "password": pw}
            ),
        )
        where = f"the Secret {ns}/{initial.SECRET_NAME} (key password)"
    else:
        path = initial.default_file(parts.settings.database_url, parts.settings.manifests)
        password, created = initial.file_password(path)
        where = str(path)
    return initial.admin_user(password), where, created


def serve_web(parts: Parts, actors: Actors, threads: int = 16) -> Any:
    # 16: a push waits for its group commit (app.http.group_commit) without using the CPU, and the
    # threads that wait are the ones that fill the next batch.
    rt = actors.runtime
    writer = manifest_writer(parts)
    try:
        parts.initial_admin = initial_admin(parts, writer)
    except Exception as exc:  # e.g. RBAC without `create` on Secrets: say so, and stay closed
        log.warning("no first-start admin (%s); log in with a LocalUser, OIDC or an ApiKey", exc)
    access = AccessOptions(
        secrets=parts.secrets,
        clock=rt.clock,
        initial_admin=parts.initial_admin[0] if parts.initial_admin else None,
        writer=writer,
    )
    push = PushEndpoint(
        parts.store,
        parts.catalog,
        parts.secrets,
        on_transition=actors.handle_transition.send,
        clock=rt.clock,
        in_maintenance=rt.in_maintenance,
    )
    pipeline = PipelineSources(
        queue_depths=lambda: {q: queue_depth(parts.broker, q) for q in QUEUES},
        scheduler=lambda: parts.scheduler,
    )
    public = PublicOptions(registry=parts.metrics, pipeline=pipeline, base_url=parts.settings.base_url or "")
    app = create_app(
        parts.store,
        parts.catalog,
        broker_ok=lambda: broker_ok(parts.broker),
        push=push,
        public=public,
        access=access,
    )
    server = waitress.create_server(
        app,
        host=parts.settings.listen_host,
        port=parts.settings.listen_port,
        threads=threads,
        ident="kubekuma",
        clear_untrusted_proxy_headers=True,
        **SERVER_LIMITS,
    )
    return server


def serve_role_metrics(parts: Parts) -> int | None:
    """Serve this process's registry on KUBEKUMA_METRICS_LISTEN (worker, scheduler, controller).

    Scaled out, each role counts its own figures (checks run, drift, reconciles) in its own
    process; this gives Prometheus a port per pod to scrape them. The port, or None if unset.
    """
    listen = parts.settings.metrics_listen
    if not listen:
        return None
    parts.metrics.register(PipelineCollector(PipelineSources(scheduler=lambda: parts.scheduler)))
    host, _, port = listen.rpartition(":")
    server, _thread = prometheus_client.start_http_server(int(port), host.strip("[]"), registry=parts.metrics)
    actual = int(server.server_address[1])
    log.info("metrics on http://%s:%d/metrics", host, actual)
    return actual


def wait_for_signal() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def folder_controller(parts: Parts) -> FolderController | None:
    if not parts.settings.manifests:
        return None
    return FolderController(parts.settings.manifests, parts.store, parts.secrets, parts.settings.namespace)


def kube_controller(parts: Parts) -> ElectedController | None:
    """Kubernetes mode without a manifests folder: watch the API while holding the controller Lease."""
    kube = parts.kube
    if kube is None or parts.settings.manifests:
        return None
    return ElectedController(
        lambda: kube.controller(parts.store, parts.secrets),
        parts.lease("controller"),
        RENEW_DEADLINE,
        RETRY_PERIOD,
    )


def folder_secrets_loop(parts: Parts, stop: threading.Event) -> None:
    """A worker reads Secret manifests from the folder itself: secrets never go through the database."""
    if not parts.settings.manifests:
        return
    fs = FolderSecrets(parts.settings.manifests, parts.secrets, parts.settings.namespace)
    fs.refresh()

    def loop() -> None:
        while not stop.wait(2.0):
            try:
                fs.refresh()
            except Exception:
                log.exception("cannot reload Secrets from the folder")

    threading.Thread(target=loop, name="folder-secrets", daemon=True).start()


class Embedded:
    """All four roles in one process: what `kubekuma run` starts (and what the tests start)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.parts = build_parts(settings)
        self.controller = folder_controller(self.parts)
        self.kube_controller = kube_controller(self.parts)
        self.actors = build_actors(self.parts)
        self.workers: list[dramatiq.Worker] = []
        self.scheduler: MonitorScheduler | None = None
        self.elector: Elector | None = None
        self.server: Any = None
        self._web: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.listen_host}:{self.server.effective_port}/"

    def start(self) -> Embedded:
        if self.controller:
            self.controller.start()
        if self.kube_controller:
            self.kube_controller.start()
        self.workers = start_workers(self.parts, self.settings.worker_threads)
        # On Redis, even the embedded shape takes the lease, so it can run beside scaled-out roles.
        self.scheduler, self.elector = start_scheduler(
            self.parts, self.actors, elected=self.parts.redis is not None or self.parts.kube is not None
        )
        self.server = serve_web(self.parts, self.actors)
        self._web = threading.Thread(target=self.server.run, name="web", daemon=True)
        self._web.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        if self.elector:
            self.elector.stop()
        if self.scheduler:
            self.scheduler.shutdown()
        if self.controller:
            self.controller.stop()
        if self.kube_controller:
            self.kube_controller.stop()
        for w in self.workers:
            w.stop(timeout=5000)
        self.actors.runtime.pool.shutdown()
        self.parts.broker.close()
        self.parts.store.close()
