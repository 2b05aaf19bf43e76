"""A system under faults and the frame every scenario runs in.

`System` ties a `Rig` (targets and receiver) to `Processes` and `Records`. `Scenario`
starts from a settled system (everything UP, the receiver quiet), lets the targets flip,
leaves the fault to the test, measures recovery from the fault's end, then stops the flips,
lets the system settle (bounded: polls, never a fixed sleep), and computes the window's
`Report` from the receiver's log and the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.faults.cluster import Processes, Records, check_time, monitors
from tests.faults.ledger import Report, Window, analyse, render
from tests.faults.rig import Rig


def poll(cond: Callable[[], Any], timeout: float, every: float = 0.25) -> Any:
    """`cond()`'s first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        last = cond()
        if last or time.monotonic() >= deadline:
            return last
        time.sleep(every)


@dataclass
class System:
    rig: Rig
    procs: Processes
    records: Records
    url: str  # the web role's base URL
    on_heal: list[Callable[[], list[str]]] = field(default_factory=list)  # services to bring back
    known: dict[str, str] = field(default_factory=dict)  # uid -> name of every monitor ever seen
    redis: Callable[[], Any] | None = None  # a client of the system's Redis, if it has one
    namespace: str = ""

    def lease_holder(self, name: str) -> str | None:
        """The instance id holding the named lease (`scheduler`, `controller`)."""
        assert self.redis is not None
        try:
            v = self.redis().get(f"{self.namespace}:{name}:lease")
        except Exception:
            return None
        return v.decode() if isinstance(v, bytes) else v

    def api(self) -> dict[str, dict[str, Any]]:
        ms = monitors(self.url)
        self.known.update({m["uid"]: name for name, m in ms.items()})
        return ms

    def all_up(self, since: float = 0.0) -> bool:
        ms, names = self.api(), self.rig.names()
        return sorted(ms) == names and all(m["state"] == "UP" and check_time(m) > since for m in ms.values())

    def heal(self) -> list[str]:
        """Undo what a failed scenario left behind, so the next one starts whole; says what it did."""
        self.rig.targets.stop_flipping()
        self.rig.receiver.behave("ok")
        done = [what for fix in self.on_heal for what in fix()]
        return done + [f"restarted {n}" for n in self.procs.heal()]


class Scenario:
    """with Scenario(system, "name") as s: …fault…; s.fault_over(); … — then `s.report`."""

    def __init__(self, system: System, name: str, settle_timeout: float = 45.0) -> None:
        self.sys, self.name, self.settle_timeout = system, name, settle_timeout
        self.notes: list[str] = []
        self.recovery_s: float | None = None
        self.report: Report | None = None

    def __enter__(self) -> Scenario:
        self.notes += [f"before the scenario: {what}" for what in self.sys.heal()]
        if not poll(self.sys.all_up, 60):
            self.notes.append("the system was not all UP at the start")
        self._close_stale_incidents()
        poll(lambda: self.sys.rig.receiver.quiet_for() > 2, 20)
        self.start = time.time()
        self.ids = self.sys.records.max_ids()
        self.sys.rig.targets.start_flipping()
        return self

    def _close_stale_incidents(self) -> None:
        """An earlier scenario may have left an UP monitor with an open incident (a late DOWN opened
        it); its next outage would fold into it. One outage before the window closes it, so each
        scenario is judged on what it did itself."""
        ms = self.sys.api()
        stale = sorted(n for n, m in ms.items() if m["uid"] in set(self.sys.records.open_incidents(after=0)))
        if not stale:
            return
        self.notes.append(
            f"before the scenario: one outage to close the stale incidents of {', '.join(stale)}"
        )
        for name in stale:
            self.sys.rig.targets.pin(name, 500)
        poll(lambda: all(self.sys.api().get(n, {}).get("state") == "DOWN" for n in stale), 15)
        released = time.time()
        self.sys.rig.targets.stop_flipping()
        poll(lambda: self.sys.all_up(since=released) and not self._stale_left(), 30)

    def _stale_left(self) -> bool:
        live = {m["uid"] for m in self.sys.api().values()}
        return bool(live.intersection(self.sys.records.open_incidents(after=0)))

    def flip_for(self, seconds: float) -> None:
        """Let the timetable run (flips keep happening whatever else goes on)."""
        time.sleep(seconds)

    def fault_over(self, timeout: float = 60.0) -> None:
        """The fault has ended: time until every monitor has been checked again."""
        end = time.time()
        names = self.sys.rig.names()

        def all_checked() -> bool:
            ms = self.sys.api()
            return sorted(ms) == names and all(check_time(m) > end for m in ms.values())

        if poll(all_checked, timeout, every=0.2):
            self.recovery_s = time.time() - end
        else:
            self.notes.append(
                f"not every monitor was checked again within {timeout:.0f} s of the fault's end"
            )

    def at_next_outage(self, delay: float = 1.0, timeout: float = 15.0) -> None:
        """Return `delay` s after the next target goes down: its DOWN is being checked, recorded, sent."""
        flips = self.sys.rig.targets.flips
        seen = len(flips)
        poll(lambda: any(f.to == "down" for f in flips[seen:]), timeout, every=0.05)
        time.sleep(delay)

    def settle(self) -> None:
        """Flips stop; wait until all UP, this window's work done and the receiver quiet.

        "Work done" includes transitions left unhandled by a fault, which the sweeper re-sends
        60–90 s later: waiting for them and their messages (up to `SWEEP_WAIT`) keeps late
        messages in the window that caused them. The rest is bounded by `settle_timeout`.
        """
        stopped = time.time()
        self.sys.rig.targets.stop_flipping()
        rec, ids = self.sys.records, self.ids
        waiting: dict[str, bool] = {}

        def settled() -> bool:
            try:
                waiting["every monitor UP"] = self.sys.all_up(since=stopped)
                live = {m["uid"] for m in self.sys.api().values()}  # a deleted one's incident is judged later
                waiting["incidents closed"] = not live.intersection(rec.open_incidents(after=ids[0]))
                waiting["transitions handled"] = rec.unhandled_transitions(after=ids[1]) == 0
                waiting["deliveries done"] = rec.unfinished_deliveries(after=ids[2]) == 0
                waiting.pop("database readable", None)
            except Exception:  # the database may still be coming back
                waiting["database readable"] = False
            waiting["receiver quiet 3 s"] = self.sys.rig.receiver.quiet_for() > 3
            return all(waiting.values())

        def done() -> bool:
            if settled():
                return True
            # Past settle_timeout an incident may never close (that is a finding, not a wait);
            # transitions the sweeper will re-send, and what they send, are still awaited.
            late = ("transitions handled", "deliveries done", "receiver quiet 3 s")
            return time.time() - stopped > self.settle_timeout and all(waiting.get(k) for k in late)

        poll(done, max(SWEEP_WAIT, self.settle_timeout), every=0.5)
        lacking = ", ".join(k for k, ok in waiting.items() if not ok)
        if lacking:
            self.notes.append(f"did not settle within {time.time() - stopped:.0f} s (lacking: {lacking})")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            self._judge(exc_type)
        except Exception as exc:
            REPORTS.append(f"== {self.name}: no figures, the analysis failed: {exc!r}")
            if exc_type is None:
                raise  # otherwise the scenario's own error is the one to see

    def _judge(self, exc_type: object) -> None:
        self.settle()
        end = time.time()
        after_i, after_t, _ = self.ids
        upto_i, upto_t, _ = self.sys.records.max_ids()
        ms = self.sys.api()
        names = dict(self.sys.known)  # with monitors deleted during the window
        every, downs = self.sys.records.transitions(after_t, upto_t)
        window = Window(self.name, self.start, end, (after_i, upto_i), (after_t, upto_t))
        report = analyse(
            window,
            names,
            self.sys.rig.targets.flips,
            self.sys.rig.receiver.requests,
            self.sys.records.incidents(after_i, upto_i),
            self.sys.records.deliveries(),
            downs,
            every,
            live={m["uid"] for m in ms.values()},
        )
        report.recovery_s = self.recovery_s
        exits = self.sys.procs.unexpected_exits()
        report.notes = [*self.notes, *(f"{n} exited by itself (code {c})" for n, c in exits.items())]
        if exc_type is not None:
            report.notes.append(f"the scenario itself failed: {exc_type}")
        self.report = report
        REPORTS.append(render(report))


SWEEP_WAIT = 100.0  # the transition sweeper re-sends what is 60 s old, every 30 s
REPORTS: list[str] = []  # rendered tables, printed at the end of the session


def verdict(s: Scenario, procs: Processes) -> None:
    """The targets of issue 9: nothing lost, duplicated or reordered; every process recovered."""
    assert s.report is not None
    t, table = s.report.total, render(s.report)
    exits = procs.unexpected_exits()
    assert not exits, f"processes exited by themselves: {exits}\n{table}\n" + "\n".join(
        f"--- {n}\n{procs.log_tail(n)}" for n in exits
    )
    assert s.recovery_s is not None, f"checks did not resume for every monitor\n{table}"
    assert (t.lost, t.duplicated, t.out_of_order) == (0, 0, 0), f"alerts were not truthful\n{table}"
