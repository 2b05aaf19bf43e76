"""A Kubernetes API double on 127.0.0.1, faithful where the controller and the Lease depend on it.

The real `kubernetes` client talks HTTP to it. What it does as the API server does:

- one resourceVersion counter for every write; list returns it, watch resumes after it;
- watch streams chunked JSON lines; with `resourceVersion` unset or "0" it starts with
  ADDED for every object; `allowWatchBookmarks` gets BOOKMARK events; `timeoutSeconds` ends it;
- a watch or list from a resourceVersion older than the last compaction gets 410 Gone
  (an ERROR event with code 410 on a watch, HTTP 410 on a list or a continue token);
- `limit`/`continue` pagination over a consistent snapshot;
- metadata.generation starts at 1 and is bumped only when something besides metadata and
  status changes; a write that changes nothing is not a write (no new resourceVersion, no event);
- for kinds with the status subresource, the main resource ignores `status` (create and
  update keep the stored one) and `/status` changes only `status`;
- PUT with a stale metadata.resourceVersion, or a merge patch carrying one, is 409 Conflict;
  create of an existing name is 409 AlreadyExists; custom resources need a resourceVersion on PUT;
- merge patches (RFC 7386) on custom resources; other patch types get 415;
- Secrets (core v1) and Leases (coordination.k8s.io/v1) beside the ten kubekuma.io kinds.

Tests also reach in directly (`create`, `update`, `delete`, `compact`, `cut_watches`,
`expire_watches`, `fail`) to arrange a situation faster than HTTP would.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.kube.fakekube import RESOURCES, ApiError, FakeKube, Kind


# -- HTTP ---------------------------------------------------------------------------------------------------
def route(path: str) -> tuple[Kind, str | None, str | None, str]:
    """URL path -> (kind, namespace or None for all, name, subresource)."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
    namespace = None
    if (
        len(rest) >= 2
        and rest[0] == "namespaces"
        and (group, version, rest[2] if len(rest) > 2 else "") in RESOURCES
    ):
        namespace, rest = rest[1], rest[2:]
    if not rest or (group, version, rest[0]) not in RESOURCES:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
    kind = RESOURCES[(group, version, rest[0])]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    if sub and not (sub == "status" and kind.status):
        raise ApiError(404, "NotFound", f"no subresource {sub} on {kind.plural}")
    return kind, namespace, name, sub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stalls
    api: FakeKube

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, "BadRequest", "the body is not JSON") from None

    def _fault(self, method: str) -> int | None:
        with self.api.cond:
            self.api.requests.append((method, self.path))
            for f in self.api.faults:
                if f[0] == method and f[1] in self.path and f[3] > 0:
                    f[3] -= 1
                    return int(f[2])
        return None

    def _handle(self, method: str) -> None:
        try:
            code = self._fault(method)
            if code is not None:
                raise ApiError(code, "InternalError", f"injected fault {code}")
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            kind, namespace, name, sub = route(url.path)
            ns = namespace or ""
            api = self.api
            if method == "GET" and name is None and query.get("watch") in ("true", "1", "True"):
                return self._stream(api.watch(kind, namespace, query))
            if method == "GET" and name is None:
                return self._json(200, api._list(kind, namespace, query))
            if method == "GET":
                with api.cond:
                    obj = copy.deepcopy(api._current(kind, ns, name))
                return self._json(200, obj)
            if method == "POST" and name is None:
                return self._json(201, api._create(kind, ns, self._body()))
            if name is None:
                raise ApiError(405, "MethodNotAllowed", f"{method} needs an object name")
            if method == "PUT":
                return self._json(200, api._replace(kind, ns, name, self._body(), sub))
            if method == "PATCH":
                ctype = (self.headers.get("Content-Type") or "").split(";")[0]
                if ctype != "application/merge-patch+json":
                    raise ApiError(
                        415, "UnsupportedMediaType", f"the double only speaks merge patches, not {ctype}"
                    )
                return self._json(200, api._patch(kind, ns, name, self._body(), sub))
            if method == "DELETE":
                return self._json(200, api._delete(kind, ns, name))
            raise ApiError(405, "MethodNotAllowed", method)
        except ApiError as exc:
            self._json(exc.code, exc.status())

    def _stream(self, events: Iterator[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for event in events:
                line = json.dumps(event).encode() + b"\n"
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            events.close()  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up (a cut watch, a discarded pooled connection) is not news


class ApiServer:
    """The double served on 127.0.0.1:<free port>; `client()` is a real kubernetes ApiClient for it."""

    def __init__(self, bookmark_interval: float = 1.0) -> None:
        self.api = FakeKube(bookmark_interval=bookmark_interval)
        handler = type("Handler", (_Handler,), {"api": self.api})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-apiserver",
            daemon=True,
        )

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self.api.cond:
            self.api.closing = True
            self.api.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def client(self) -> Any:
        from kubernetes import client

        config = client.Configuration(host=self.url)
        config.retries = 0
        return client.ApiClient(config)


@contextmanager
def api_server(bookmark_interval: float = 1.0) -> Iterator[ApiServer]:
    server = ApiServer(bookmark_interval).start()
    try:
        yield server
    finally:
        server.stop()
