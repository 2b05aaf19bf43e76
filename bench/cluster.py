"""Real KubeKuma processes for the pipeline benchmark, in the two shapes it compares.

`Cluster` is the scaled-out shape: controller, scheduler, workers and web, on a fresh
PostgreSQL database (`kk_bench_*`, dropped afterwards) and a Redis server of its own on a
spare port (so its CPU is this cluster's alone). `EmbeddedRun` is the default shape:
one `kubekuma run` process on a SQLite file with the in-memory broker. Both take
MonitorSets in a manifests folder and are read the same way (heartbeats in the database),
so the benchmark measures them with one method. Only the processes started here are ever
signalled, by their pid.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import redis

from bench.common import PG_ADMIN, child_env, free_port, proc_cpu_s, python, unique

ROLES = ("controller", "scheduler", "worker-1", "worker-2", "web")


def monitor_set_yaml(name: str, n: int, interval: float, url: str, timeout: float = 5.0) -> str:
    items = "\n".join(f"    - {{name: m{i}}}" for i in range(n))
    return (
        "apiVersion: kubekuma.io/v1alpha1\n"
        "kind: MonitorSet\n"
        f"metadata: {{name: {name}, namespace: bench}}\n"
        "spec:\n"
        "  template:\n"
        "    type: http\n"
        f"    interval: {interval:g}s\n"
        f"    timeout: {timeout:g}s\n"
        f"    http: {{url: '{url}'}}\n"
        "  items:\n"
        f"{items}\n"
    )


def utc_naive(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def _time(value: Any) -> datetime:
    """A timestamp column: PostgreSQL gives a datetime, SQLite the text Pony wrote."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Cluster:
    def __init__(self, worker_threads: int = 8, workers: int = 2) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="kkbench-cluster-")
        self.root = Path(self.dir.name)
        self.manifests = self.root / "manifests"
        self.manifests.mkdir()
        self.db_name = unique("kk_bench_")
        self.namespace = unique("kkbench-")
        self.port = free_port()
        self.worker_threads = worker_threads
        self.workers = workers
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.redis: subprocess.Popen[bytes] | None = None
        self._conn: Any = None
        self._created = False

    label = "scaled out (PostgreSQL + Redis)"
    queues = True  # queue depths can be read (Redis)

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + self.db_name

    def start(self) -> Cluster:
        self._start_redis()
        admin = psycopg2.connect(PG_ADMIN)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{self.db_name}"')
        admin.close()
        self._created = True
        env = child_env(
            KUBEKUMA_DATABASE_URL=self.db_url,
            KUBEKUMA_REDIS_URL=self.redis_url,
            KUBEKUMA_REDIS_NAMESPACE=self.namespace,
            KUBEKUMA_MANIFESTS=str(self.manifests),
            KUBEKUMA_LISTEN=f"127.0.0.1:{self.port}",
            KUBEKUMA_WORKER_THREADS=str(self.worker_threads),
        )
        # The controller first, so it creates the schema while the others wait on the advisory lock.
        self._spawn("controller", ["controller"], env)
        self._spawn("scheduler", ["scheduler"], env)
        for i in range(1, self.workers + 1):
            self._spawn(f"worker-{i}", ["worker", "--threads", str(self.worker_threads)], env)
        self._spawn("web", ["web"], env)
        return self

    def _start_redis(self) -> None:
        log = open(self.root / "redis.log", "wb")  # noqa: SIM115 - lives as long as the server
        args = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.root)]  # fmt: skip
        self.redis = subprocess.Popen(args, stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.redis_url, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("the benchmark's redis-server did not start")

    def context_pids(self) -> dict[str, list[int]]:
        """The services' processes that work for this cluster alone: its database's backends, its Redis."""
        return {"PostgreSQL": self.db_backend_pids(), "Redis": [self.redis.pid] if self.redis else []}

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.procs[name] = subprocess.Popen(
            [python(), "-m", "app.cli", *args], env=env, stdout=log, stderr=log
        )

    def _stop_processes(self) -> None:
        """SIGTERM every process, kill what has not exited in 15 s, and close the database connection."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stop(self) -> None:
        self._stop_processes()
        if self._created:
            admin = psycopg2.connect(PG_ADMIN)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            admin.close()
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(15)
        self.dir.cleanup()

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 2500) -> str:
        try:
            return (self.root / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # -- manifests ----------------------------------------------------------------------------
    def write_set(self, name: str, n: int, interval: float, url: str) -> None:
        """Replace the folder's content with one MonitorSet (written aside, then renamed in)."""
        tmp = self.manifests / ".bench.tmp"
        tmp.write_text(monitor_set_yaml(name, n, interval, url))
        os.replace(tmp, self.manifests / "bench.yaml")

    # -- reading the database -----------------------------------------------------------------
    def sql(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._conn is None:
            self._conn = psycopg2.connect(self.db_url)
            self._conn.autocommit = True
        with self._conn.cursor() as cur:
            cur.execute(query, args)
            return list(cur.fetchall())

    def table_exists(self) -> bool:
        try:
            return bool(self.sql("SELECT to_regclass('kk_monitor_state') IS NOT NULL")[0][0])
        except psycopg2.Error:
            return False

    def checked_monitors(self, set_name: str) -> int:
        """Monitors of the set that have a state row, i.e. were checked at least once."""
        if not self.table_exists():
            return 0
        return int(
            self.sql(
                "SELECT count(*) FROM kk_monitor_state s JOIN kk_resources r ON r.uid = s.uid "
                "WHERE r.kind = 'Monitor' AND r.name LIKE %s",
                (f"{set_name}-%",),
            )[0][0]
        )

    def heartbeats_between(self, t0: float, t1: float) -> int:
        return int(
            self.sql(
                "SELECT count(*) FROM kk_heartbeats WHERE time >= %s AND time < %s",
                (utc_naive(t0), utc_naive(t1)),
            )[0][0]
        )

    def beats_of_set(self, set_name: str, t0: float, t1: float) -> list[tuple[str, float]]:
        rows = self.sql(
            "SELECT h.monitor_uid, h.time FROM kk_heartbeats h JOIN kk_resources r ON r.uid = h.monitor_uid "
            "WHERE r.name LIKE %s AND h.time >= %s AND h.time < %s",
            (f"{set_name}-%", utc_naive(t0), utc_naive(t1)),
        )
        return [(uid, _time(t).replace(tzinfo=UTC).timestamp()) for uid, t in rows]

    def uids_of_set(self, set_name: str) -> list[str]:
        rows = self.sql(
            "SELECT uid FROM kk_resources WHERE kind = 'Monitor' AND name LIKE %s", (f"{set_name}-%",)
        )
        return [r[0] for r in rows]

    def db_backend_pids(self) -> list[int]:
        rows = self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (self.db_name,)
        )
        return [int(r[0]) for r in rows]

    def queue_depth(self, queue: str = "checks") -> int:
        client = redis.Redis.from_url(self.redis_url)
        try:
            return int(client.llen(f"{self.namespace}:{queue}"))
        finally:
            client.close()

    def wait_queue_empty(self, queue: str, timeout: float) -> float:
        return self.wait_queue_below(queue, 1, timeout)

    def wait_queue_below(self, queue: str, depth: int, timeout: float) -> float:
        """Wait (at most `timeout`) until fewer than `depth` messages wait on `queue`; returns the wait."""
        start = time.monotonic()
        while self.queue_depth(queue) >= depth and time.monotonic() - start < timeout:
            self.check_alive()
            time.sleep(0.5)
        return time.monotonic() - start

    # -- accounting ---------------------------------------------------------------------------
    def cpu(self) -> dict[str, float]:
        return {name: proc_cpu_s(p.pid) for name, p in self.procs.items()}

    def wait_checked(self, set_name: str, n: int, timeout: float) -> float:
        """Wait until every monitor of the set was checked once; returns how long it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self.check_alive()
            if self.checked_monitors(set_name) >= n:
                return time.monotonic() - start
            time.sleep(1.0)
        raise TimeoutError(
            f"only {self.checked_monitors(set_name)}/{n} monitors checked after {timeout:.0f}s"
        )


class EmbeddedRun(Cluster):
    """`kubekuma run`: everything in one process, on a SQLite file and the in-memory broker."""

    label = "embedded (kubekuma run, SQLite)"
    queues = False  # the in-memory broker's queues are inside the process

    def __init__(self, worker_threads: int = 8) -> None:
        super().__init__(worker_threads=worker_threads, workers=1)
        self.db_path = self.root / "kk.db"

    def start(self) -> EmbeddedRun:
        env = child_env(KUBEKUMA_WORKER_THREADS=str(self.worker_threads), KUBEKUMA_LOG_LEVEL="WARNING")
        env.pop("KUBEKUMA_REDIS_URL", None)
        env.pop("KUBEKUMA_DATABASE_URL", None)
        args = ["run", "--manifests", str(self.manifests), "--listen", f"127.0.0.1:{self.port}",
                "--database-url", f"sqlite:///{self.db_path}"]  # fmt: skip
        self._spawn("kubekuma run", args, env)
        return self

    def context_pids(self) -> dict[str, list[int]]:
        return {}

    def stop(self) -> None:
        self._stop_processes()
        self.dir.cleanup()

    def sql(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The same queries on the SQLite file (datetimes as the text Pony writes)."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.db_path, timeout=30)
        values = tuple(a.isoformat(" ", "microseconds") if isinstance(a, datetime) else a for a in args)
        return list(self._conn.execute(query.replace("%s", "?"), values).fetchall())

    def table_exists(self) -> bool:
        if not self.db_path.exists():
            return False
        try:
            return bool(self.sql("SELECT name FROM sqlite_master WHERE name = 'kk_monitor_state'"))
        except sqlite3.Error:
            return False

    def db_backend_pids(self) -> list[int]:
        return []

    def queue_depth(self, queue: str = "checks") -> int:
        return -1  # unknown from outside

    def wait_queue_below(self, queue: str, depth: int, timeout: float) -> float:
        """No queue to watch from outside: give the start-up burst a few seconds."""
        time.sleep(min(timeout, 5.0))
        return min(timeout, 5.0)
