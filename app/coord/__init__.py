"""Coordination between processes: leases (one active scheduler/controller) and in-flight guards.

Both come in a local flavour (one process, the embedded default) and a Redis flavour
(scaled out). Every mark expires by itself, so a process killed with SIGKILL never
leaves a monitor blocked or a role without a leader for longer than one TTL.
"""

from app.coord.guard import InflightGuard, LocalGuard, RedisGuard
from app.coord.lease import Elector, Lease, LocalLease, RedisLease

__all__ = ["Elector", "InflightGuard", "Lease", "LocalGuard", "LocalLease", "RedisGuard", "RedisLease"]
