"""The scheduler role: a slot loop enqueuing the due monitors in batches, run only while holding the lease."""

from app.scheduler.jobs import MonitorScheduler, phase_offset

__all__ = ["MonitorScheduler", "phase_offset"]
