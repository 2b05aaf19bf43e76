"""The Dramatiq broker from the settings: Redis when a URL is set, otherwise in memory.

Actors are declared on the broker passed in (see `register_actors`), so there is no
import-order dance with a global broker and tests can build as many as they like.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

CHECK_QUEUE = "checks"
TRANSITION_QUEUE = "transitions"  # its own pool: a hanging provider never delays incident news
ALERT_QUEUE = "alerts"
QUEUES = (CHECK_QUEUE, TRANSITION_QUEUE, ALERT_QUEUE)


def _middleware() -> list[dramatiq.Middleware]:
    return [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Retries(max_retries=0),
    ]


def make_broker(redis_url: str | None, namespace: str = "kubekuma") -> dramatiq.Broker:
    if redis_url:
        # A dead worker's unacknowledged messages (running and prefetched) come back after 10 s
        # without a heartbeat; maintenance runs on about 2 % of broker calls to notice it. The
        # in-flight guard's token keeps a message that comes back from running twice.
        broker: dramatiq.Broker = RedisBroker(
            url=redis_url, namespace=namespace, middleware=_middleware(), heartbeat_timeout=10_000,
            maintenance_chance=20_000,
        )  # fmt: skip
    else:
        broker = StubBroker(middleware=_middleware())
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    return broker


def broker_ok(broker: dramatiq.Broker) -> bool:
    """True when the broker answers (for /readyz)."""
    if isinstance(broker, RedisBroker):
        try:
            return bool(broker.client.ping())
        except Exception:
            return False
    return True


def queue_depth(broker: dramatiq.Broker, queue: str) -> int:
    if isinstance(broker, RedisBroker):
        return int(broker.client.llen(f"{broker.namespace}:{queue}"))
    if isinstance(broker, StubBroker):
        q = broker.queues.get(queue)
        return q.qsize() if q is not None else 0
    return 0
