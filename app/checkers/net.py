"""Name resolution and TCP connects that respect the check's deadline.

`getaddrinfo` has no timeout of its own and cannot be interrupted; it runs in the check's
own thread (no helper thread per check) and an answer that comes after the deadline counts
as a timeout. IP literals skip the resolver, which keeps the common in-cluster case
(Service IPs) cheap. A resolver that hangs past the deadline keeps that one pool thread
until the resolver's own timeout; the batch does not wait for it (app/actors/pool.py).
"""

from __future__ import annotations

import ipaddress
import socket

from app.checkers.deadline import Deadline, DeadlineExceeded, call_within
from app.checkers.errors import CheckFailed, classify
from app.model import FailureClass

Address = tuple[int, int, int, tuple[str, int] | tuple[str, int, int, int]]


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def resolve(host: str, port: int, deadline: Deadline, kind: int = socket.SOCK_STREAM) -> list[Address]:
    """(family, type, proto, sockaddr) for host:port; CheckFailed(DNS or TIMEOUT) when it cannot."""
    host = host.strip("[]")

    def lookup() -> list[Address]:
        infos = socket.getaddrinfo(host, port, type=kind)
        return [(fam, typ, proto, addr) for fam, typ, proto, _, addr in infos]  # type: ignore[misc]

    try:
        return lookup() if is_ip(host) else call_within(lookup, deadline)
    except DeadlineExceeded:
        raise CheckFailed(FailureClass.TIMEOUT, f"resolving {host} took longer than the timeout") from None
    except socket.gaierror as exc:
        raise CheckFailed(FailureClass.DNS, f"cannot resolve {host}: {exc.strerror or exc}") from None


def connect_tcp(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A connected TCP socket to the first address that accepts, within the deadline."""
    target = f"{host}:{port}"
    last: OSError | None = None
    for family, kind, proto, addr in resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(addr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
            if deadline.expired():
                break
    if last is None:
        raise CheckFailed(FailureClass.DNS, f"{host} has no addresses")
    if isinstance(last, TimeoutError):
        raise CheckFailed(FailureClass.TIMEOUT, f"connecting to {target} timed out")
    failure, reason = classify(last, target)
    raise CheckFailed(failure, reason)
