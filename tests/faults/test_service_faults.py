"""The services under the scaled-out shape fail while monitors flip: Redis killed and down
30 s, then back empty on the same port; PostgreSQL shut down (fast) and down 20 s."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import Scenario, System, verdict
from tests.faults.services import PostgresCluster, RedisServer

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]


def test_redis_killed_and_down_30s(scaled: System, redis_server: RedisServer) -> None:
    with Scenario(scaled, "(2) Redis killed, down 30 s, restarted empty on the same port") as s:
        s.flip_for(6)
        redis_server.kill()
        time.sleep(30)
        redis_server.start()
        s.fault_over()
        s.flip_for(6)
    verdict(s, scaled.procs)


def test_postgres_fast_shutdown_down_20s(scaled: System, postgres: PostgresCluster) -> None:
    with Scenario(scaled, "(3) PostgreSQL fast shutdown, down 20 s, restarted") as s:
        s.flip_for(6)
        postgres.stop_fast()
        time.sleep(20)
        postgres.start()
        s.fault_over()
        s.flip_for(6)
    verdict(s, scaled.procs)
