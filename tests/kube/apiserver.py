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
- merge, JSON, strategic-merge (read as merge) and server-side apply patches (patching.py);
- custom resources pruned, defaulted and validated against their CRD's schema (schema.py),
  unknown fields refused with `fieldValidation=Strict`; `dryRun=All` does all of it and stores nothing;
- `labelSelector` and `fieldSelector` on list and watch (selectors.py);
- discovery, OpenAPI v3, /version and Table output with printer columns (discovery.py), so a
  real kubectl works against it;
- the request body is read before anything else on every path (errors and injected faults
  too), so a keep-alive connection never takes a leftover body for the next request;
- Secrets, Events, Namespaces (core v1), Leases (coordination.k8s.io/v1) and
  CustomResourceDefinitions beside the ten kubekuma.io kinds.

Tests also reach in directly (`create`, `update`, `delete`, `compact`, `cut_watches`,
`expire_watches`, `fail`) to arrange a situation faster than HTTP would.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.kube import discovery, patching
from tests.kube.fakekube import RESOURCES, ApiError, FakeKube, Kind
from tests.kube.selectors import selector


def _missing(path: str) -> dict[str, Any]:
    raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")


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
    if group == "" and rest[:1] == ["namespaces"] and (len(rest) <= 2 or rest[2] in ("status", "finalize")):
        kind = RESOURCES[("", "v1", "namespaces")]
        return kind, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else ""
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

    def _read(self) -> bytes:
        """The whole request body, read first on every path: what is left unread would be taken for
        the start of the next request on this keep-alive connection."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    @staticmethod
    def _body(raw: bytes) -> Any:
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

    def _discovery(self, path: str) -> dict[str, Any] | None:
        """Discovery, OpenAPI and version documents; None for a resource path."""
        parts = [p for p in path.split("/") if p]
        host = f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        if parts == ["version"]:
            return discovery.KUBE_VERSION
        if parts == ["api"]:
            return discovery.api_versions(host)
        if parts == ["apis"]:
            return discovery.api_groups()
        if parts == ["api", "v1"]:
            return discovery.resource_list("", "v1")
        if len(parts) == 2 and parts[0] == "apis":
            return discovery.api_group(parts[1]) or _missing(path)
        if len(parts) == 3 and parts[0] == "apis":
            return discovery.resource_list(parts[1], parts[2]) or _missing(path)
        if parts[:2] == ["openapi", "v3"]:
            if len(parts) == 2:
                return discovery.openapi_root()
            gv = parts[3:] if parts[2] == "apis" else ["", *parts[3:]]
            doc = discovery.openapi_doc(gv[0], gv[1]) if len(gv) == 2 else None
            return doc or _missing(path)
        if parts[:1] == ["openapi"]:
            return _missing(path)
        return None

    def _handle(self, method: str) -> None:
        raw = self._read()
        try:
            code = self._fault(method)
            if code is not None:
                raise ApiError(code, "InternalError", f"injected fault {code}")
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "GET" and (doc := self._discovery(url.path)) is not None:
                return self._json(200, doc)
            kind, namespace, name, sub = route(url.path)
            ns = namespace or ""
            api = self.api
            dry = query.get("dryRun") == "All"
            strict = query.get("fieldValidation") == "Strict"
            table = discovery.wants_table(self.headers.get("Accept"))
            if method == "GET" and name is None:
                match = selector(query)
                if query.get("watch") in ("true", "1", "True"):
                    return self._stream(api.watch(kind, namespace, query, match))
                listed = api._list(kind, namespace, query, match)
                if table:
                    return self._json(200, discovery.table(kind, listed["items"], listed["metadata"]))
                return self._json(200, listed)
            if method == "GET":
                with api.cond:
                    obj = copy.deepcopy(api._current(kind, ns, name, implicit=True))
                if table:
                    return self._json(200, discovery.table(kind, [obj], {"resourceVersion": str(api.rv)}))
                return self._json(200, obj)
            if method == "POST" and name is None:
                return self._json(201, api._create(kind, ns, self._body(raw), dry, strict))
            if name is None:
                raise ApiError(405, "MethodNotAllowed", f"{method} needs an object name")
            if method == "PUT":
                return self._json(200, api._replace(kind, ns, name, self._body(raw), sub, dry, strict))
            if method == "PATCH":
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if ctype not in patching.TYPES:
                    raise ApiError(
                        415, "UnsupportedMediaType", f"the server does not support patch type {ctype}"
                    )
                body = patching.parse(ctype, raw)
                if ctype == patching.APPLY:
                    manager = query.get("fieldManager")
                    status, obj = patching.server_side_apply(
                        api, kind, ns, name, body, sub, manager, dry, strict
                    )
                    return self._json(status, obj)
                patched = functools.partial(patching.apply_patch, ctype)
                return self._json(200, api._patch(kind, ns, name, body, sub, patched, dry, strict))
            if method == "DELETE":
                options = self._body(raw) if raw else {}
                dry = dry or "All" in (options.get("dryRun") or [])
                return self._json(200, api._delete(kind, ns, name, dry))
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
