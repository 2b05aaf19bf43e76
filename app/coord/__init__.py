"""Coordination between processes: leases (one active scheduler/controller), in-flight guards and
worker liveness.

Each comes in a local flavour (one process, the embedded default) and a Redis flavour
(scaled out). Every mark expires by itself, so a process killed with SIGKILL never
leaves a monitor blocked or a role without a leader for longer than one TTL; liveness
makes the common case (a dead worker) much shorter than that.
"""

from app.coord.guard import InflightGuard, LocalGuard, RedisGuard
from app.coord.lease import Elector, Lease, LocalLease, RedisLease
from app.coord.liveness import Liveness, LocalLiveness, RedisLiveness, start_beating

__all__ = [
    "Elector", "InflightGuard", "Lease", "Liveness", "LocalGuard", "LocalLease", "LocalLiveness",
    "RedisGuard", "RedisLease", "RedisLiveness", "start_beating",
]  # fmt: skip
