"""The dependencies actors work with, built once per process and passed in."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from app.actors.pool import CheckPool
from app.catalog import Catalog
from app.coord import InflightGuard, Liveness, LocalLiveness
from app.model import utc_now
from app.resources.loader import SecretStore
from app.store import Store


def default_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Runtime:
    store: Store
    catalog: Catalog
    secrets: SecretStore
    guard: InflightGuard
    clock: Callable[[], datetime] = utc_now
    identity: str = field(default_factory=default_identity)
    kube: Any = None
    in_maintenance: Callable[[Any, datetime], bool] = lambda entry, now: False
    liveness: Liveness = field(default_factory=LocalLiveness)
    pool: CheckPool = field(default_factory=CheckPool)  # runs the checks of batches (app/actors/pool.py)
    _local: threading.local = field(default_factory=threading.local)

    def session(self) -> requests.Session:
        """One HTTP session per worker thread: connection reuse without sharing a pool across threads."""
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.headers["User-Agent"] = "KubeKuma/0.1 (+https://kubekuma.io)"
            self._local.session = s
        return s
