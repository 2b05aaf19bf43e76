"""`kubekuma run` (every role in one process, SQLite, in-memory broker) SIGKILLed while its
monitors flip, and started again on the same database."""

from __future__ import annotations

import pytest

from tests.faults.harness import Scenario, System, verdict

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]


def test_embedded_process_killed_and_restarted(embedded: System) -> None:
    procs = embedded.procs
    with Scenario(embedded, "(7) embedded `kubekuma run` SIGKILLed and restarted") as s:
        s.flip_for(6)
        s.at_next_outage()  # while a DOWN is being checked, recorded and sent
        procs.kill("embedded")
        s.flip_for(3)
        procs.restart("embedded")
        s.fault_over()
        s.flip_for(8)
    verdict(s, procs)
