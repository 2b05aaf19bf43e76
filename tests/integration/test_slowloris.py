"""Slow and idle clients: 300 connections that drip or say nothing must not stop /healthz answering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import load_settings
from app.roles import Embedded

HOLD = 300


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Embedded]:
    folder = tmp_path / "m"
    folder.mkdir()
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'kk.db'}",
        manifests=str(folder),
        listen="127.0.0.1:0",
        worker_threads=1,
    )
    sys_ = Embedded(settings).start()
    try:
        yield sys_
    finally:
        sys_.stop()


@pytest.mark.slow
def test_300_slowloris_connections_do_not_stop_healthz(web: Embedded) -> None:
    port = web.server.effective_port
    socks: list[socket.socket] = []
    stop = threading.Event()
    try:
        for i in range(HOLD):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2 == 0:  # half drip a request line and headers, never finishing them; half stay silent
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)

        def drip() -> None:
            while not stop.wait(0.5):
                for s in socks[::2]:
                    try:
                        s.sendall(b"X-a: b\r\n")
                    except OSError:
                        pass

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        latencies = []
        deadline = time.monotonic() + 5
        with requests.Session() as http:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                r = http.get(f"http://127.0.0.1:{port}/healthz", timeout=5, headers={"Connection": "close"})
                latencies.append(time.perf_counter() - started)
                assert r.status_code == 200
                time.sleep(0.1)
        worst = max(latencies)
        print(
            f"/healthz under {HOLD} slowloris sockets: {len(latencies)} requests, worst {worst * 1000:.1f} ms"
        )
        assert worst < 1.0
    finally:
        stop.set()
        for s in socks:
            s.close()
