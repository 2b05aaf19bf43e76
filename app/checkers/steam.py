"""Steam game server checks: an A2S_INFO query (name, map, players) through python-a2s.

python-a2s parses the protocol, including the challenge round-trip Valve added in 2020,
but its transport waits the full timeout on every datagram and sends from an
unconnected socket. We hand it a stream of our own: a connected UDP socket (so an ICMP
"port unreachable" shows as refused instead of as a timeout) that reads against the
check's deadline.
"""

from __future__ import annotations

import socket
from typing import Any

import a2s
from a2s.a2s_sync import A2SStream, request_sync_impl
from a2s.info import InfoProtocol

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.net import resolve
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType, SteamSpec


class _DeadlineSocket:
    """The slice of the socket API A2SStream uses, bounded by the deadline and connected."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def sendto(self, data: bytes, _address: Any) -> int:
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.send(data)

    def recv(self, size: int) -> bytes:
        if self._deadline.expired():
            raise TimeoutError
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv(size)

    def close(self) -> None:
        self._sock.close()


class _Stream(A2SStream):
    def __init__(self, family: int, address: Any, deadline: Deadline) -> None:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        self.address = address
        self._socket = _DeadlineSocket(sock, deadline)  # type: ignore[assignment]


def _info(s: SteamSpec, deadline: Deadline) -> Any:
    family, _, _, address = resolve(s.host, s.port, deadline, socket.SOCK_DGRAM)[0]
    stream = _Stream(family, address, deadline)
    try:
        return request_sync_impl(stream, "utf-8", InfoProtocol)
    finally:
        stream.close()


def _text(v: Any) -> str:
    return v.decode(errors="replace") if isinstance(v, bytes) else str(v)


@register(MonitorType.STEAM)
def check_steam(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: SteamSpec = spec.steam  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    try:
        info = _info(s, deadline)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    except TimeoutError:
        reason = f"no A2S_INFO answer from {target} (UDP) within {spec.timeout:g}s"
        return CheckResult.down(FailureClass.TIMEOUT, reason, deadline.elapsed_ms())
    except (a2s.BrokenMessageError, UnicodeDecodeError, ValueError) as exc:
        reason = f"{target} answered, but not with a valid A2S_INFO reply: {exc}"
        return CheckResult.down(FailureClass.PROTOCOL, reason, deadline.elapsed_ms())
    except OSError as exc:
        failure, reason = classify(exc, f"{target} (UDP)")
        return CheckResult.down(failure, reason, deadline.elapsed_ms())
    details: dict[str, Any] = {
        "name": _text(info.server_name),
        "map": _text(info.map_name),
        "game": _text(info.game),
        "players": info.player_count,
        "maxPlayers": info.max_players,
        "bots": info.bot_count,
        "passwordProtected": bool(info.password_protected),
        "vac": bool(info.vac_enabled),
        "pingMs": round(info.ping * 1000, 2),
    }
    if hasattr(info, "version"):
        details["version"] = _text(info.version)
    reason = f"{details['name']} on {details['map']}: {info.player_count}/{info.max_players} players"
    return CheckResult.up(deadline.elapsed_ms(), reason, **details)
