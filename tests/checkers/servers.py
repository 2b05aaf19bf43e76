"""Real servers on 127.0.0.1 for the checker tests and the checker benchmark.

HTTP(S) with one route per behaviour, TCP (echo, banner, silent...), DNS on UDP and TCP,
WebSocket (RFC 6455 by hand), a Steam A2S responder and a Kubernetes API double. Each
binds port 0 on loopback. Certificates come from a throwaway CA made with `cryptography`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.now(UTC)

# What a loaded 2-core machine may add to a check's own deadline: scheduling, not waiting.
# The servers the timing tests face would hold a check for seconds, so the bound still proves it.
SLACK_S = 0.6

# ---------------------------------------------------------------- certificates


@dataclass
class Leaf:
    cert_pem: str
    key_pem: str
    not_after: datetime


@dataclass
class Pki:
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate
    tmp: Path
    leaves: dict[str, Leaf] = field(default_factory=dict)

    @property
    def ca_pem(self) -> str:
        return self.ca_cert.public_bytes(serialization.Encoding.PEM).decode()

    def leaf(
        self, name: str, names: list[str], days: float = 90, before: float = 1, client: bool = False
    ) -> Leaf:
        """A certificate for `names`, valid from `before` days ago until `days` from now."""
        if name in self.leaves:
            return self.leaves[name]
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        not_after = NOW + timedelta(days=days)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=before))
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        )
        if client:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
            )
        cert = builder.sign(self.ca_key, hashes.SHA256())
        leaf = Leaf(
            cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
            not_after,
        )
        self.leaves[name] = leaf
        return leaf

    def server_context(self, leaf: Leaf, require_client: bool = False) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert_file, key_file = self.tmp / f"{id(leaf)}.crt", self.tmp / f"{id(leaf)}.key"
        cert_file.write_text(leaf.cert_pem)
        key_file.write_text(leaf.key_pem)
        ctx.load_cert_chain(cert_file, key_file)
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cadata=self.ca_pem)
        return ctx


def make_pki(tmp: Path) -> Pki:
    """A throwaway CA and the leaf certificates the tests use, by name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "KubeKuma Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pki = Pki(key, ca, tmp)
    pki.leaf("good", ["localhost", "127.0.0.1"])
    pki.leaf("expired", ["localhost", "127.0.0.1"], days=-2, before=30)
    pki.leaf("wrong-name", ["other.example"])
    pki.leaf("soon", ["localhost", "127.0.0.1"], days=5.5)
    pki.leaf("client", ["kubekuma-client"], client=True)
    return pki


# ---------------------------------------------------------------- specs and contexts


# ---------------------------------------------------------------- threaded servers


class TlsHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 overflows under a benchmark: SYN retries cost 1 s
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake happens in the request's thread, so a failed one never blocks accept().
        if self.ssl_context is not None:
            try:
                request.settimeout(5)
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)


def serve_in_thread(server: socketserver.BaseServer) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    t.start()
    return t


@dataclass
class Served:
    host: str
    port: int
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def https(self) -> str:
        return f"https://{self.host}:{self.port}"


class TargetHandler(BaseHTTPRequestHandler):
    """A web application with one route per behaviour the http checker must handle."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; with Nagle on, the body waits for a delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: bytes | str = b"", ctype: str = "text/plain", **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        body = self._body()
        if self.path.startswith("http://"):  # we are the proxy
            return self._send(200, f"proxied {self.path}")
        if path == "/ok":
            return self._send(200, "all good: status OK")
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self._send(code, f"status {code}", **({"Location": "/ok"} if 300 <= code < 400 else {}))
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                return self._send(200, "landed")
            return self._send(302, "", Location=f"/redirect/{n - 1}")
        if path == "/redirect-to":
            return self._send(int(q.get("code", 302)), "", Location=q["url"])
        if path == "/echo":
            out = {
                "method": self.command,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(errors="replace"),
            }
            if isinstance(self.connection, ssl.SSLSocket):
                peer = self.connection.getpeercert()
                if peer:
                    out["client"] = dict(x[0] for x in peer["subject"])["commonName"]
            return self._send(200, json.dumps(out), "application/json")
        if path == "/json":
            doc = {"status": "ok", "count": 3, "healthy": True, "load": 0.75, "tags": ["eu", "prod"]}
            doc["items"] = [{"name": "a", "up": True}, {"name": "b", "up": False}]
            return self._send(200, json.dumps(doc), "application/json")
        if path == "/greeting":
            charset = q.get("charset")
            text = "Grüße aus Köln"
            ctype = "text/plain" + (f"; charset={charset}" if charset else "")
            return self._send(200, text.encode("latin-1" if charset == "latin-1" else "utf-8"), ctype)
        if path == "/html":
            return self._send(200, "<html><body>Welcome</body></html>", "text/html")
        if path == "/slow":
            time.sleep(float(q.get("s", "2")))
            return self._send(200, "slow but ok")
        if path == "/drip":
            # Headers at once, then a byte every 0.2s: no single read ever times out.
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return None
        if path == "/big":
            size = int(q.get("n", "100000"))
            return self._send(200, b"a" * (size - 6) + b"needle")
        if path == "/basic":
            want = "Basic " + base64.b64encode(b"alice:s3cret").decode()
            if self.headers.get("Authorization") != want:
                return self._send(401, "who are you", WWW_Authenticate='Basic realm="t"')
            return self._send(200, "hello alice")
        if path == "/bearer":
            if self.headers.get("Authorization") != "Bearer tok-123":
                return self._send(401, "bad token")
            return self._send(200, "token ok")
        if path == "/cookie-set":
            return self._send(302, "", Location="/cookie-check", Set_Cookie="session=abc; Path=/")
        if path == "/cookie-check":
            ok = "session=abc" in (self.headers.get("Cookie") or "")
            return self._send(200 if ok else 400, "cookie ok" if ok else "no cookie")
        if path == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        return self._send(404, "not here")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- plain TCP


class TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True
    ssl_context: ssl.SSLContext | None = None


def tcp_handler(behaviour: str) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            ctx = self.server.ssl_context  # type: ignore[attr-defined]
            sock.settimeout(5)
            try:
                if ctx is not None:
                    sock = ctx.wrap_socket(sock, server_side=True)
                if behaviour == "echo":
                    while data := sock.recv(4096):
                        sock.sendall(data)
                elif behaviour == "banner":
                    sock.sendall(b"220 mail.test ESMTP ready\r\n")
                    sock.recv(1024)
                elif behaviour == "silent":
                    time.sleep(3)
                elif behaviour == "hangup":
                    sock.recv(1024)
                elif behaviour == "close":
                    sock.sendall(b"bye")
                elif behaviour == "nul":  # a binary protocol's greeting, as a text check reads it
                    sock.sendall(b"\x00\x00KK\x00 greeting\x00")
                elif behaviour == "chatter":
                    for i in range(50):
                        sock.sendall(f"line {i}\n".encode())
                        time.sleep(0.05)
            except OSError:
                pass
            finally:
                sock.close()

    return Handler


# ---------------------------------------------------------------- DNS

ZONE: dict[tuple[str, str], list[str]] = {
    ("www.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("www.test.", "AAAA"): ["2001:db8::10"],
    ("alias.test.", "CNAME"): ["www.test."],
    ("test.", "MX"): ["10 mail.test.", "20 backup.test."],
    ("test.", "TXT"): ['"v=spf1 -all"', '"Hello World"'],
    ("test.", "NS"): ["ns1.test.", "ns2.test."],
    ("_sip._tcp.test.", "SRV"): ["10 5 5060 sip.test."],
    ("test.", "CAA"): ['0 issue "letsencrypt.org"'],
    ("test.", "SOA"): ["ns1.test. hostmaster.test. 2024010101 7200 3600 1209600 300"],
    ("10.2.0.192.in-addr.arpa.", "PTR"): ["www.test."],
    ("empty.test.", "A"): [],
    ("big.test.", "TXT"): [f'"record-{i:02d}-{"x" * 60}"' for i in range(20)],
}


class DnsServer:
    """An authoritative-looking DNS server on UDP and TCP of one port, answering from ZONE.

    `nx.test` is NXDOMAIN, `fail.test` SERVFAIL, `slow.test` never answered, and answers
    over 512 bytes are truncated on UDP, as a real server would, to force the TCP retry.
    """

    def __init__(self) -> None:
        self.udp, self.tcp = self._bind_pair()
        self.port = self.udp.getsockname()[1]
        self.queries: list[tuple[str, str, str]] = []  # (transport, name, type)
        self.stopped = False
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    @staticmethod
    def _bind_pair() -> tuple[socket.socket, socket.socket]:
        """A UDP and a TCP socket on the same free port (a free UDP port may be taken for TCP)."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            return udp, tcp
        raise OSError("no port free for both UDP and TCP")

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        q = dns.message.from_wire(wire)
        question = q.question[0]
        name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((transport, name, rdtype))
        if name == "slow.test.":
            return None
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        if name == "nx.test.":
            r.set_rcode(dns.rcode.NXDOMAIN)
        elif name == "fail.test.":
            r.set_rcode(dns.rcode.SERVFAIL)
        else:
            if (name, "CNAME") in ZONE and rdtype != "CNAME":
                target = ZONE[(name, "CNAME")][0]
                r.answer.append(dns.rrset.from_text(name, 300, "IN", "CNAME", target))
                name = target
            records = ZONE.get((name, rdtype))
            if records:
                r.answer.append(dns.rrset.from_text_list(name, 300, "IN", rdtype, records))
        if transport == "udp":
            wire_out = r.to_wire()
            if len(wire_out) > 512:
                r.answer = []
                r.flags |= dns.flags.TC
            return r.to_wire()
        return r.to_wire()

    def _serve_udp(self) -> None:
        while not self.stopped:
            try:
                wire, addr = self.udp.recvfrom(4096)
            except OSError:
                return
            out = self.answer(wire, "udp")
            if out is not None:
                self.udp.sendto(out, addr)

    def _serve_tcp(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(3)
                try:
                    size = struct.unpack("!H", conn.recv(2))[0]
                    out = self.answer(conn.recv(size), "tcp")
                    if out is not None:
                        conn.sendall(struct.pack("!H", len(out)) + out)
                except (OSError, struct.error):
                    pass

    def stop(self) -> None:
        self.stopped = True
        self.udp.close()
        self.tcp.close()


# ---------------------------------------------------------------- WebSocket

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebsocketHandler(socketserver.BaseRequestHandler):
    """RFC 6455 by hand: the upgrade, then text frames echoed back in upper case.

    Path /private needs `X-Token: letmein`; path /mute never sends anything; path /hello
    greets on connect.
    """

    def handle(self) -> None:
        sock: socket.socket = self.request
        ctx = self.server.ssl_context  # type: ignore[attr-defined]
        sock.settimeout(5)
        try:
            if ctx is not None:
                sock = ctx.wrap_socket(sock, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                request += chunk
            lines = request.decode().split("\r\n")
            path = lines[0].split()[1]
            headers = {
                k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            if path == "/private" and headers.get("x-token") != "letmein":
                sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            accept = base64.b64encode(
                hashlib.sha1((headers["sec-websocket-key"] + _WS_GUID).encode()).digest()
            )
            sock.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            if path == "/hello":
                _ws_send(sock, b"hello from server")
            if path == "/mute":
                time.sleep(3)
                return
            while True:
                opcode, payload = _ws_recv(sock)
                if opcode == 8:  # close
                    return
                if opcode == 1:
                    _ws_send(sock, payload.upper())
        except (OSError, KeyError, IndexError, struct.error):
            return
        finally:
            sock.close()


def _ws_recv(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise OSError("closed")
            buf += chunk
        return buf

    b0, b1 = exactly(2)
    size = b1 & 0x7F
    if size == 126:
        size = struct.unpack("!H", exactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", exactly(8))[0]
    mask = exactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = exactly(size)
    return b0 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _ws_send(sock: socket.socket, payload: bytes) -> None:
    header = (
        bytes([0x81, len(payload)])
        if len(payload) < 126
        else bytes([0x81, 126]) + struct.pack("!H", len(payload))
    )
    sock.sendall(header + payload)


# ---------------------------------------------------------------- Steam A2S


class A2sResponder:
    """A Source game server's A2S_INFO, with the 2020 challenge round-trip.

    mode: 'challenge' (the default: ask for a challenge first), 'plain' (answer at once),
    'garbage' (an invalid reply), 'silent' (never answer).
    """

    CHALLENGE = 0x5A5A1234

    def __init__(self, mode: str = "challenge") -> None:
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def info_reply() -> bytes:
        def cstr(s: str) -> bytes:
            return s.encode() + b"\0"

        body = b"I" + bytes([17])
        body += cstr("KubeKuma Test Server") + cstr("de_dust2") + cstr("csgo") + cstr("Counter-Strike")
        body += struct.pack("<H", 730) + bytes([7, 16, 2]) + b"d" + b"l" + bytes([0, 1])
        body += cstr("1.38.7.9") + bytes([0x80]) + struct.pack("<H", 27015)
        return b"\xff\xff\xff\xff" + body

    def _serve(self) -> None:
        prefix = b"\xff\xff\xff\xffTSource Engine Query\x00"
        while True:
            try:
                data, addr = self.sock.recvfrom(4096)
            except OSError:
                return
            self.requests.append(data)
            if self.mode == "silent" or not data.startswith(prefix):
                continue
            if self.mode == "garbage":
                self.sock.sendto(b"\xff\xff\xff\xffZnot a2s", addr)
                continue
            challenge = data[len(prefix) :]
            if self.mode == "challenge" and challenge != struct.pack("<I", self.CHALLENGE):
                self.sock.sendto(b"\xff\xff\xff\xffA" + struct.pack("<I", self.CHALLENGE), addr)
                continue
            self.sock.sendto(self.info_reply(), addr)

    def stop(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------- Kubernetes API double


class KubeApi:
    """Just enough of the Kubernetes API for readiness: GET one object, LIST by label selector.

    Objects are stored as the API returns them (JSON dicts); `forbidden` namespaces answer
    403 the way RBAC does, and unknown objects 404 with a Status body.
    """

    PATHS = {
        "deployments": "/apis/apps/v1",
        "statefulsets": "/apis/apps/v1",
        "daemonsets": "/apis/apps/v1",
        "pods": "/api/v1",
        "endpoints": "/api/v1",
    }
    KINDS = {
        "deployments": "Deployment",
        "statefulsets": "StatefulSet",
        "daemonsets": "DaemonSet",
        "pods": "Pod",
        "endpoints": "Endpoints",
    }

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (plural, ns, name)
        self.forbidden: set[str] = set()
        self.requests: list[str] = []

    def add(self, plural: str, ns: str, name: str, labels: dict[str, str] | None = None, **body: Any) -> None:
        api = self.PATHS[plural].removeprefix("/apis/").removeprefix("/api/")
        self.objects[(plural, ns, name)] = {
            "apiVersion": api,
            "kind": self.KINDS[plural],
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "uid": f"uid-{name}"},
            **body,
        }

    def route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""))
        parts = path.strip("/").split("/")
        # api/v1/namespaces/NS/PLURAL[/NAME]  or  apis/apps/v1/namespaces/NS/PLURAL[/NAME]
        i = parts.index("namespaces")
        ns, plural = parts[i + 1], parts[i + 2]
        name = parts[i + 3] if len(parts) > i + 3 else None
        if ns in self.forbidden:
            verb = "get" if name else "list"
            msg = f'{plural} is forbidden: User "system:serviceaccount:kuma:kubekuma" cannot {verb} resource'
            return 403, _status(403, "Forbidden", msg)
        if name is not None:
            obj = self.objects.get((plural, ns, name))
            if obj is None:
                return 404, _status(404, "NotFound", f'{plural} "{name}" not found')
            return 200, obj
        wanted = dict(p.split("=", 1) for p in query.get("labelSelector", "").split(",") if p)
        items = [
            o
            for (p, n, _), o in sorted(self.objects.items())
            if p == plural and n == ns and all(o["metadata"]["labels"].get(k) == v for k, v in wanted.items())
        ]
        kind = self.KINDS[plural] + "List"
        return 200, {"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def kube_handler(api: KubeApi) -> type[BaseHTTPRequestHandler]:
    """An HTTP handler answering GETs from the API double, as JSON."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            code, body = api.route(url.path, {k: v[0] for k, v in parse_qs(url.query).items()})
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
