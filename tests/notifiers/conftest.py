"""A real HTTP receiver on 127.0.0.1 standing in for each provider's API, and the messages sent to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.notifiers.base import Message, NotifyContext
from app.resources.loader import SecretStore

NOW = datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Receiver:
    """Answers each request with the next queued (status, body), then with `default`."""

    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    answers: list[tuple[int, Any]] = field(default_factory=list)
    default: tuple[int, Any] = (200, {"ok": True})

    def answer(self, *answers: tuple[int, Any]) -> Receiver:
        self.answers.extend(answers)
        return self

    @property
    def last(self) -> Seen:
        assert self.requests, "the receiver got no request"
        return self.requests[-1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            with lock:
                rec.requests.append(
                    Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                )
                status, answer = rec.answers.pop(0) if rec.answers else rec.default
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


SECRET = "s3cr3t-t0ken-value"


def context(**secrets: str) -> NotifyContext:
    """A context whose Secret `creds` in namespace shop holds the given keys."""
    return NotifyContext(
        namespace="shop",
        secrets=SecretStore({("shop", "creds"): dict(secrets)}, environ={}),
        session=requests.Session(),
    )


def ref(key: str) -> dict[str, str]:
    return {"name": "creds", "key": key}


def message(event: str = "down", **over: Any) -> Message:
    base: dict[str, Any] = {
        "event": event,
        "title": f"checkout is {'UP' if event == 'up' else 'DOWN'}",
        "body": "shop/checkout is DOWN: HTTP 500 <oops> & more",
        "monitor": "checkout",
        "namespace": "shop",
        "monitor_uid": "0b6f",
        "time": NOW,
        "key": "i:1:down/7",
        "state": "UP" if event == "up" else "DOWN",
        "previous_state": "UP",
        "reason": "HTTP 500",
        "url": "https://shop.example/health",
        "latency_ms": 41.5,
        "labels": {"team": "payments"},
    }
    base.update(over)
    return Message(**base)


def closed_port() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
