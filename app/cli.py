"""`kubekuma`: run all roles in one process, or one role each, and validate manifests."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from app import __version__
from app.config import ConfigError, Settings, configure_logging, load_settings, names_list
from app.probe import start_heartbeat

log = logging.getLogger("kubekuma")


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        manifests=getattr(args, "manifests", None),
        listen=getattr(args, "listen", None),
        database_url=getattr(args, "database_url", None),
        redis_url=getattr(args, "redis_url", None),
    )


def cmd_run(args: argparse.Namespace) -> int:
    from app import roles

    settings = _settings(args)
    configure_logging(settings)
    if settings.manifests and not Path(settings.manifests).is_dir():
        raise ConfigError(f"--manifests / KUBEKUMA_MANIFESTS: {settings.manifests} is not a folder")
    stop = roles.wait_for_signal()
    system = roles.Embedded(settings).start()
    print(f"KubeKuma {__version__} is running. Dashboard: {system.url}", flush=True)
    broker = "redis" if system.parts.redis is not None else "in-memory"
    print(
        f"  database: {settings.database_url.split('@')[-1]}; broker: {broker}; "
        f"manifests: {settings.manifests or '-'}",
        flush=True,
    )
    _login_hint(system.parts, system.url)
    stop.wait()
    system.stop()
    return 0


def _login_hint(parts: Any, url: str) -> None:
    """How to log in: the first-start admin while no LocalUser and no OIDC exist, else the login page."""
    admin = parts.initial_admin
    users = parts.store.resources.list(kind="LocalUser")
    if admin is not None and not users:
        user, where, created = admin
        state = "created" if created else "kept"
        print(f"  log in at {url}login as {user.name}; the password is in {where} ({state} on first start; "
              "it stops working once a LocalUser exists)", flush=True)  # fmt: skip
    else:
        print(f"  log in at {url}login", flush=True)


def cmd_web(args: argparse.Namespace) -> int:
    from app import roles

    settings = _settings(args)
    configure_logging(settings)
    parts = roles.build_parts(settings)
    stop = roles.wait_for_signal()
    roles.folder_secrets_loop(parts, stop)
    server = roles.serve_web(parts, roles.build_actors(parts))
    url = f"http://{settings.listen_host}:{server.effective_port}/"
    print(f"KubeKuma web listening on {url}", flush=True)
    _login_hint(parts, url)
    threading.Thread(target=server.run, name="web", daemon=True).start()
    stop.wait()
    server.close()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from app import roles

    settings = _settings(args)
    configure_logging(settings)
    parts = roles.build_parts(settings)
    stop = roles.wait_for_signal()
    start_heartbeat("worker", stop)
    roles.folder_secrets_loop(parts, stop)
    roles.build_actors(parts)
    workers = roles.start_workers(parts, args.threads or settings.worker_threads)
    roles.serve_role_metrics(parts)
    log.info("worker %s: consuming checks and alerts", parts.identity)
    stop.wait()
    for w in workers:
        w.stop(timeout=10000)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from app import roles

    settings = _settings(args)
    configure_logging(settings)
    parts = roles.build_parts(settings)
    stop = roles.wait_for_signal()
    start_heartbeat("scheduler", stop)
    actors = roles.build_actors(parts)
    sched, elector = roles.start_scheduler(parts, actors, elected=True)
    roles.serve_role_metrics(parts)
    log.info("scheduler %s: waiting for the lease", parts.identity)
    stop.wait()
    if elector:
        elector.stop()
    sched.shutdown()
    return 0


def cmd_controller(args: argparse.Namespace) -> int:
    from app import roles
    from app.coord import Elector

    settings = _settings(args)
    configure_logging(settings)
    kubernetes = bool(getattr(args, "kubernetes", False))
    if not settings.manifests and not kubernetes and not roles.KubeParts.detect(None):
        raise ConfigError("KUBEKUMA_MANIFESTS / --manifests: the folder controller needs a manifests folder "
                          "(or run in a cluster, or pass --kubernetes)")  # fmt: skip
    parts = roles.build_parts(settings, kubernetes=kubernetes)
    roles.serve_role_metrics(parts)
    stop = roles.wait_for_signal()
    start_heartbeat("controller", stop)
    kube = roles.kube_controller(parts)
    if kube is not None:
        kube.start()
        log.info("controller %s: Kubernetes mode; waiting for the lease", parts.identity)
        stop.wait()
        kube.stop()
        return 0
    controller = roles.folder_controller(parts)
    assert controller is not None
    started = threading.Event()
    elector = Elector(
        parts.lease("controller"), started.set, started.clear, roles.RENEW_DEADLINE, roles.RETRY_PERIOD
    )
    elector.start()
    log.info("controller %s: waiting for the lease", parts.identity)
    while not stop.is_set():
        if elector.leading:
            try:
                controller.reconcile()
            except Exception:
                log.exception("controller: reconcile failed; will retry")
        stop.wait(1.0)
    elector.stop()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from app.controller.references import folder_references
    from app.resources.credentials import warnings_of
    from app.resources.loader import SecretStore, load_folder

    root = Path(args.dir)
    if not root.exists():
        print(f"{root}: no such file or folder", file=sys.stderr)
        return 2
    snap = load_folder(root, args.namespace)
    # The references the running controller checks, with its code: providers, monitors, Secrets.
    # An `env:` reference is held to the running process's allowance (KUBEKUMA_ALLOWED_ENV); whether
    # the variable is set is the worker's environment's business, not this shell's.
    allowed = names_list(os.environ.get("KUBEKUMA_ALLOWED_ENV", ""))
    present = {n: "set where KubeKuma runs" for n in allowed}
    secrets = SecretStore(snap.secrets, environ=present, allowed_env=allowed)
    problems = snap.problems + folder_references(snap, secrets)
    for problem in problems:
        for line in problem.lines():
            print(line)
    for r in snap.resources:
        for w in warnings_of(r.raw_spec):
            print(f"{r.source}: {r.kind} {r.namespace + '/' if r.namespace else ''}{r.name}: warning: {w}")
    kinds: dict[str, int] = {}
    for r in snap.resources:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no objects"
    nprob = sum(len(p.problems) for p in problems)
    print(f"{'invalid' if nprob else 'valid'}: {summary}; {nprob} problem(s)", file=sys.stderr)
    return 1 if nprob else 0


def cmd_import(args: argparse.Namespace) -> int:
    from app.importers import gatus, kuma

    source = Path(args.path)
    if not source.is_file():
        print(f"{source}: no such file", file=sys.stderr)
        return 2
    convert = kuma.convert if args.tool == "uptime-kuma" else gatus.convert
    try:
        bundle = convert(source, args.namespace)
    except (ValueError, OSError) as exc:  # unreadable JSON/YAML or database
        print(f"{source}: cannot read it: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    for path in bundle.write(out):
        print(f"wrote {path}")
    report = out / "IMPORT-REPORT.md"
    counts = f"{len(bundle.documents)} objects, {len(bundle.secrets)} Secrets"
    print(f"{counts}; {len(bundle.unmapped)} setting(s) not carried over (see {report}):")
    for line in bundle.unmapped:
        print(f"  - {line}")
    if bundle.environment:
        names = ",".join(sorted(bundle.environment))
        print(f"credentials read from the environment: set KUBEKUMA_ALLOWED_ENV={names}")
    return 0


def cmd_crds(args: argparse.Namespace) -> int:
    from app.resources.crd import all_crds, to_yaml

    docs = {name: to_yaml(doc) for name, doc in all_crds().items()}
    if not args.out:
        print("---\n".join(docs.values()), end="")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(docs)} CustomResourceDefinitions to {out}", file=sys.stderr)
    return 0


def _print_manifests(docs: list[dict[str, Any]]) -> None:
    import yaml

    print("".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in docs), end="")


def cmd_user_create(args: argparse.Namespace) -> int:
    import getpass

    from app.http.access.manifests import user_manifests

    password = args.password_stdin and sys.stdin.readline().rstrip("\n")
    if not password:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            print("the passwords differ", file=sys.stderr)
            return 1
    if len(password) < 12:
        print("a password needs at least 12 characters", file=sys.stderr)
        return 1
    _print_manifests(user_manifests(args.name, password, args.role, args.namespace))
    print(f"# commit these; {args.name} logs in once the controller has them", file=sys.stderr)
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from app.http.access.manifests import apikey_manifests

    expires = None
    if args.expires:
        expires = datetime.fromisoformat(args.expires.replace("Z", "+00:00"))
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    docs, key = apikey_manifests(args.name, args.role, list(args.scope or []), args.namespace, expires)
    _print_manifests(docs)
    # The key goes to stderr, once: stdout is the manifests, safe to redirect into a file and commit.
    print(f"# the key (shown once, stored nowhere): {key}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubekuma",
        description="KubeKuma: a Kubernetes-native uptime monitor. Settings come from KUBEKUMA_* "
        "environment variables (KUBEKUMA_DATABASE_URL, KUBEKUMA_REDIS_URL, KUBEKUMA_MANIFESTS, "
        "KUBEKUMA_LISTEN, KUBEKUMA_LOG_LEVEL, KUBEKUMA_LOG_FORMAT); flags override them.",
    )
    p.add_argument("--version", action="version", version=f"kubekuma {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser, listen: bool = False, manifests: bool = False) -> None:
        sp.add_argument("--database-url", help="sqlite:///PATH or postgresql://... (KUBEKUMA_DATABASE_URL)")
        sp.add_argument(
            "--redis-url", help="redis://host:port/db; unset = in-memory broker (KUBEKUMA_REDIS_URL)"
        )
        if listen:
            sp.add_argument(
                "--listen", help="HOST:PORT to serve on (KUBEKUMA_LISTEN, default 127.0.0.1:8080)"
            )
        if manifests:
            sp.add_argument("--manifests", help="folder of YAML manifests (KUBEKUMA_MANIFESTS)")

    sp = sub.add_parser(
        "run",
        help="all roles in one process (SQLite, in-memory broker by default)",
        description="Start web, worker, scheduler and controller in one process. With no "
        "KUBEKUMA_REDIS_URL it uses an in-memory broker; the database defaults to SQLite "
        "in ./kubekuma.db.",
    )
    common(sp, listen=True, manifests=True)
    sp.set_defaults(fn=cmd_run)

    sp = sub.add_parser("web", help="serve the API, dashboard, status pages, badges and metrics")
    common(sp, listen=True, manifests=True)
    sp.set_defaults(fn=cmd_web)

    sp = sub.add_parser("worker", help="run checks and alert actors from the broker (needs Redis)")
    common(sp, manifests=True)
    sp.add_argument("--threads", type=int, help="check threads (KUBEKUMA_WORKER_THREADS, default 8)")
    sp.set_defaults(fn=cmd_worker)

    sp = sub.add_parser("scheduler", help="enqueue checks on their intervals while holding the lease")
    common(sp)
    sp.set_defaults(fn=cmd_scheduler)

    sp = sub.add_parser("controller", help="load manifests into the resource cache and keep their status")
    common(sp, manifests=True)
    sp.add_argument(
        "--kubernetes",
        action="store_true",
        help="watch the Kubernetes API (kubeconfig or in-cluster) instead of a folder",
    )
    sp.set_defaults(fn=cmd_controller)

    sp = sub.add_parser(
        "validate",
        help="check a folder of manifests; print every problem; exit 1 on any",
        description="Validate every manifest below DIR. Prints FILE: KIND NAMESPACE/NAME: "
        "FIELD: REASON for each problem and exits 1 when there is any.",
    )
    sp.add_argument("dir", help="folder (or file) of YAML manifests")
    sp.add_argument("--namespace", default="default", help="namespace for manifests that name none")
    sp.set_defaults(fn=cmd_validate)

    sp = sub.add_parser(
        "crds", help="print the CustomResourceDefinitions of the ten kinds (or write them to a folder)"
    )
    sp.add_argument("--out", help="folder to write one YAML file per kind into; default: print to stdout")
    sp.set_defaults(fn=cmd_crds)

    sp = sub.add_parser(
        "import",
        help="turn an Uptime Kuma database or backup, or a Gatus configuration, into manifests",
        description="Write Monitors, NotificationProviders (with Secrets), NotificationPolicies, StatusPages "
        "and MaintenanceWindows to OUT, and list every setting that could not be carried over.",
    )
    sp.add_argument("tool", choices=["uptime-kuma", "gatus"], help="where the configuration comes from")
    sp.add_argument("path", help="uptime-kuma: kuma.db or a 1.x backup .json; gatus: config.yaml")
    sp.add_argument("--out", default="imported", help="folder to write into (default: ./imported)")
    sp.add_argument("--namespace", default="default", help="namespace of the written objects")
    sp.set_defaults(fn=cmd_import)

    roles = ["viewer", "editor", "admin"]
    sp = sub.add_parser("user", help="local users: print the manifests of a new one")
    usub = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = usub.add_parser("create", help="print a LocalUser and its Secret (argon2id hash), ready to commit",
                         description="Asks for the password (or reads one line with --password-stdin) and "
                         "prints the LocalUser and the Secret holding only its argon2id hash.")  # fmt: skip
    up.add_argument("name")
    up.add_argument("--role", choices=roles, default="viewer")
    up.add_argument("--namespace", default="default")
    up.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    up.set_defaults(fn=cmd_user_create)

    sp = sub.add_parser("apikey", help="API keys: print the manifests of a new one")
    asub = sp.add_subparsers(dest="action", required=True, metavar="ACTION")
    ap = asub.add_parser("create", help="print an ApiKey and its Secret (SHA-256 of the key); the key once",
                         description="Prints the ApiKey and the Secret with the key's hash on stdout, and "
                         "the key itself once on stderr.")  # fmt: skip
    ap.add_argument("name")
    ap.add_argument("--role", choices=roles, default="viewer")
    ap.add_argument("--scope", action="append", help="e.g. monitors:read, silences:write (repeatable)")
    ap.add_argument("--expires", help="RFC 3339 time after which the key stops working")
    ap.add_argument("--namespace", default="default")
    ap.set_defaults(fn=cmd_apikey_create)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print(f"kubekuma: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
