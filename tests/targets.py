"""Real local servers that tests point monitors at (127.0.0.1 only)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HttpTarget:
    """A threaded HTTP server whose answer the test can change: status and body per path."""

    def __init__(self) -> None:
        self.status = 200
        self.phrase: str | None = None  # the status line's reason phrase, when not the standard one
        self.body = b"ok"
        self.hits = 0
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                target.hits += 1
                status = 404 if self.path.startswith("/missing") else target.status
                body = target.body if status < 400 else b"error"
                self.send_response(status, target.phrase)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> HttpTarget:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def http_target() -> Iterator[HttpTarget]:
    t = HttpTarget().start()
    try:
        yield t
    finally:
        t.stop()
