"""Processes of the scaled-out shape killed while monitors flip: workers, the leading scheduler,
the controller while manifests change. Each scenario ends with the figures of issue 9."""

from __future__ import annotations

import pytest

from tests.faults.harness import Scenario, System, poll, verdict

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]

WORKERS = ("worker-1", "worker-2", "worker-3")


def test_workers_killed_one_then_all(scaled: System) -> None:
    procs = scaled.procs
    with Scenario(scaled, "(1) workers SIGKILLed: one, then all, then restarted") as s:
        s.flip_for(6)
        s.at_next_outage()  # while a DOWN is being checked, recorded and sent
        procs.kill("worker-1")
        s.flip_for(8)
        s.at_next_outage()
        procs.kill("worker-2")
        procs.kill("worker-3")
        s.flip_for(3)
        for w in WORKERS:
            procs.restart(w)
        s.fault_over()
        s.flip_for(6)
    verdict(s, procs)


def test_leading_scheduler_killed_with_a_standby(scaled: System) -> None:
    procs = scaled.procs
    holder = scaled.lease_holder("scheduler")
    assert holder in ("scheduler-a", "scheduler-b"), f"no scheduler holds the lease: {holder!r}"
    with Scenario(scaled, f"(4) leading scheduler ({holder}) SIGKILLed, standby running") as s:
        s.flip_for(6)
        procs.kill(holder)
        s.fault_over()
        standby = poll(lambda: scaled.lease_holder("scheduler") not in (None, holder), 5)
        if not standby:
            s.notes.append("the standby did not hold the lease after recovery")
        procs.restart(holder)  # back as the standby
        s.flip_for(6)
    verdict(s, procs)


def test_controller_killed_while_manifests_change(scaled: System) -> None:
    procs, rig = scaled.procs, scaled.rig
    victim, edited, added = "m-03", "m-05", "m-new"
    with Scenario(scaled, "(6) controller SIGKILLed; a monitor added, edited, deleted while DOWN") as s:
        s.flip_for(5)
        procs.kill("controller")
        rig.targets.pin(victim, 500)
        down = poll(lambda: scaled.api().get(victim, {}).get("state") == "DOWN", 10)
        if not down:
            s.notes.append(f"{victim} did not turn DOWN before its deletion")
        rig.delete_monitor(victim)
        rig.write_monitor(edited, interval="2s")
        rig.add_monitor(added)
        s.flip_for(5)
        procs.restart("controller")
        s.fault_over()
        s.flip_for(8)
    verdict(s, procs)
