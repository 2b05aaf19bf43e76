"""TLS client plumbing the checkers share: cached contexts, handshakes, PEM files.

The ssl module and requests take client keys and CA bundles as files and build trust
stores expensively, so this module decides once how both are handled: contexts are cached
by their inputs, CA bundles get stable file names (stable connection pools), and client
keys live in private files only while they are loaded.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from app.checkers.base import CheckContext
from app.checkers.certs import describe
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.net import connect_tcp
from app.model import FailureClass


@lru_cache(maxsize=64)
def client_context(
    verify: bool, ca_pem: str | None = None, cert_pem: str | None = None, key_pem: str | None = None
) -> ssl.SSLContext:
    """A client context: the system trust store (plus `ca_pem`) when verifying, none otherwise.

    Cached, because loading the system trust store costs milliseconds of CPU, more than the
    rest of a check; contexts are safe to share between threads. ssl.SSLError or ValueError
    when the PEMs are unusable.
    """
    ctx = ssl.create_default_context()
    if ca_pem:
        ctx.load_verify_locations(cadata=ca_pem)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert_pem:
        with private_files(cert=cert_pem, key=key_pem) as files:
            ctx.load_cert_chain(files["cert"], files.get("key"))
    return ctx


def peer_der(sock: Any) -> bytes | None:
    """The DER certificate of an ssl socket, or None if there is none (or no TLS)."""
    try:
        der = sock.getpeercert(binary_form=True)
    except (AttributeError, ValueError, OSError):
        return None
    return der or None


def fetch_der(host: str, port: int, server_name: str | None, deadline: Deadline) -> bytes | None:
    """An unverified handshake only to read the certificate, when the verified one was refused."""
    try:
        sock = connect_tcp(host, port, deadline)
    except Exception:
        return None
    try:
        sock.settimeout(deadline.remaining())
        with client_context(False).wrap_socket(sock, server_hostname=server_name or host) as tls:
            return peer_der(tls)
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def start_tls(
    sock: socket.socket,
    host: str,
    port: int,
    server_name: str | None,
    verify: bool,
    ca_pem: str | None,
    deadline: Deadline,
    warn_days: list[int] | None,
    ctx: CheckContext,
) -> tuple[ssl.SSLSocket, dict[str, Any]]:
    """Handshake on a connected socket; the TLS socket and the described peer certificate.

    On a refused certificate the details of the certificate come from a second, unverified
    handshake, so the person reading the failure sees what the server presented.
    """
    name = server_name or host
    sock.settimeout(deadline.remaining())
    try:
        tls = client_context(verify, ca_pem).wrap_socket(sock, server_hostname=name)
    except (OSError, ValueError) as exc:
        failure, reason = classify(exc, f"{host}:{port}")
        if failure is FailureClass.ERROR:
            failure = FailureClass.TLS
        extra: dict[str, Any] = {}
        if failure is FailureClass.CERTIFICATE:
            der = fetch_der(host, port, server_name, deadline)
            if der:
                extra["cert"] = describe(der, name, ctx.clock(), warn_days)
        sock.close()
        raise CheckFailed(failure, reason, **extra) from None
    der = peer_der(tls)
    info = describe(der, name, ctx.clock(), warn_days) if der else {}
    return tls, info


_ca_dir: list[str] = []
_ca_lock = threading.Lock()
_ca_paths: dict[tuple[str, str | None], str] = {}


def ca_file(ca_pem: str, with_default: str | None = None) -> str:
    """A CA bundle as a file that keeps its name for as long as its content does.

    requests takes a CA bundle only as a file, and urllib3 keys its connection pools by that
    name: a fresh temporary name per check would mean a new pool, a new TLS handshake and a
    new trust store load every check. CA certificates are public, so one file per distinct
    bundle lives in a private directory until the process exits. `with_default` names a
    bundle to prepend (the usual trust store), so the CA is trusted besides it.
    """
    key = (ca_pem, with_default)
    if (known := _ca_paths.get(key)) is not None:
        return known
    if with_default:
        with open(with_default) as fh:
            ca_pem = fh.read() + "\n" + ca_pem
    digest = hashlib.sha256(ca_pem.encode()).hexdigest()[:32]
    with _ca_lock:
        if not _ca_dir:
            _ca_dir.append(tempfile.mkdtemp(prefix="kubekuma-ca-"))
            atexit.register(shutil.rmtree, _ca_dir[0], True)
        path = os.path.join(_ca_dir[0], f"{digest}.pem")
        if not os.path.exists(path):
            tmp = f"{path}.{threading.get_ident()}"
            with open(tmp, "w") as fh:
                fh.write(ca_pem)
            os.replace(tmp, path)
        _ca_paths[key] = path
    return path


@contextmanager
def private_files(**contents: str | None) -> Iterator[dict[str, str]]:
    """PEM texts written to a private temporary directory, removed afterwards.

    `ssl.load_cert_chain` and requests take only file names; the directory is mode 0700 and
    each file 0600, so other users on the node never see a key. Empty contents are skipped.
    """
    if not any(contents.values()):
        yield {}
        return
    folder = tempfile.mkdtemp(prefix="kubekuma-tls-")
    try:
        paths = {}
        for name, text in contents.items():
            if text:
                path = os.path.join(folder, name)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                paths[name] = path
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)
