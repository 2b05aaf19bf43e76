"""The scheduler role: one interval job per enabled monitor, run only while holding the lease."""

from app.scheduler.jobs import MonitorScheduler, phase_offset

__all__ = ["MonitorScheduler", "phase_offset"]
