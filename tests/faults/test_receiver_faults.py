"""The chat misbehaves while monitors flip: it answers 500 for a while, then hangs (the sender
times out and must retry without knowing), then is healthy again."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import Scenario, System, verdict

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]


def test_receiver_refuses_then_hangs(scaled: System) -> None:
    receiver = scaled.rig.receiver
    # Retries back off exponentially (up to ~40 s apart after this): settling may take that long.
    with Scenario(
        scaled, "(5) receiver answers 500 for 8 s, hangs 10 s, then healthy", settle_timeout=90
    ) as s:
        s.flip_for(4)
        receiver.behave("error")
        time.sleep(8)
        receiver.behave("hang")
        time.sleep(10)
        receiver.behave("ok")
        s.fault_over()
        s.flip_for(6)
    verdict(s, scaled.procs)
