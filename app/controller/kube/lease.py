"""A coordination.k8s.io/v1 Lease that behaves as client-go's leader election does.

`try_acquire_or_renew` reads the Lease and writes it back with the resourceVersion it
read, so two candidates racing for it cannot both win: the loser gets 409 Conflict and
answers False. A Lease held by another identity counts as expired only once it has not
changed for `leaseDurationSeconds` *as observed on our own clock* (client-go's rule),
so clock skew between nodes cannot hand the lease over early. `release` clears
`holderIdentity` so a standby takes over at its next try instead of waiting the lease out.
The `Elector` in app/coord gives the renew deadline and retry period around it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


def micro_time(t: datetime) -> str:
    """Kubernetes MicroTime: RFC 3339 with microseconds, in UTC."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KubeLease:
    def __init__(
        self,
        api: Any,
        namespace: str,
        name: str,
        identity: str,
        lease_duration: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from kubernetes import client

        self.coord = client.CoordinationV1Api(api)
        self.namespace, self.name, self.identity = namespace, name, identity
        self.lease_duration = lease_duration
        self._clock, self._wall = clock, wall
        self._observed: dict[str, Any] | None = None  # the spec last seen
        self._observed_at = 0.0

    def _read(self) -> dict[str, Any] | None:
        from kubernetes.client.rest import ApiException

        try:
            resp = self.coord.read_namespaced_lease(
                self.name, self.namespace, _preload_content=False, _request_timeout=5
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        lease: dict[str, Any] = json.loads(resp.data)
        return lease

    def _observe(self, spec: dict[str, Any]) -> None:
        if spec != self._observed:
            self._observed, self._observed_at = dict(spec), self._clock()

    def holder(self) -> str | None:
        lease = self._read()
        return ((lease or {}).get("spec") or {}).get("holderIdentity") or None

    def try_acquire_or_renew(self) -> bool:
        from kubernetes.client.rest import ApiException

        now = micro_time(self._wall())
        lease = self._read()
        if lease is None:
            spec: dict[str, Any] = {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": max(1, round(self.lease_duration)),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            }
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": spec,
            }
            try:
                self.coord.create_namespaced_lease(
                    self.namespace, body, _preload_content=False, _request_timeout=5
                )
            except ApiException as exc:
                if exc.status == 409:  # another candidate created it first
                    return False
                raise
            self._observe(spec)
            return True
        spec = dict(lease.get("spec") or {})
        self._observe(spec)
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and self._clock() - self._observed_at < duration:
            return False  # held by another and not yet expired by our own observation
        new = dict(spec)
        if holder != self.identity:
            new["acquireTime"] = now
            new["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        new.update(
            holderIdentity=self.identity,
            renewTime=now,
            leaseDurationSeconds=max(1, round(self.lease_duration)),
        )
        lease["spec"] = new
        try:
            self.coord.replace_namespaced_lease(
                self.name, self.namespace, lease, _preload_content=False, _request_timeout=5
            )
        except ApiException as exc:
            if exc.status == 409:  # someone wrote it since we read it: they won this round
                return False
            raise
        self._observe(new)
        return True

    def release(self) -> None:
        """Give the lease up at once (on shutdown), as client-go's ReleaseOnCancel does."""
        from kubernetes.client.rest import ApiException

        lease = self._read()
        if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
            return
        now = micro_time(self._wall())
        spec = dict(lease["spec"])
        spec.update(holderIdentity=None, leaseDurationSeconds=1, renewTime=now, acquireTime=now)
        lease["spec"] = {k: v for k, v in spec.items() if v is not None}
        try:
            self.coord.replace_namespaced_lease(
                self.name, self.namespace, lease, _preload_content=False, _request_timeout=5
            )
        except ApiException as exc:
            if exc.status != 409:
                raise
            log.info("lease %s/%s changed hands while releasing it", self.namespace, self.name)
