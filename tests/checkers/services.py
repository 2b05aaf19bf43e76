"""The machine's shared servers (PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto, NATS) for checker tests.

`make test` starts any that is installed but down (scripts/ensure-services.sh); a test
whose server still cannot be reached is skipped, saying which one and where.
"""

from __future__ import annotations

import socket

import pytest

HOST = "127.0.0.1"
PORTS = {"postgres": 5432, "mysql": 3306, "redis": 6379, "amqp": 5672, "mqtt": 1883, "nats": 4222}


def require(kind: str) -> int:
    """The port of the local `kind` server; skip the test when nothing listens there."""
    port = PORTS[kind]
    try:
        socket.create_connection((HOST, port), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"no {kind} server on {HOST}:{port} ({exc}); run scripts/ensure-services.sh")
    return port
