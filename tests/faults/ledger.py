"""The ledger of a fault scenario: what was caused, recorded and received, and what went wrong.

Pure functions over plain records, so the judgement itself is tested on hand-made ledgers
(tests/faults/test_ledger.py). The definitions, per monitor:

- **received**: messages the receiver answered 200, and a message it hung on that never
  came again with a 200 (it arrived; the sender cannot know otherwise). A 500 is not received.
- **lost**: an incident opened in the window whose DOWN or UP was never received, and whose
  delivery of that event is not recorded as `superseded` or `suppressed` (those count as
  **superseded**, as does the missing UP of a monitor deleted while DOWN whose incident was
  closed; left open, it is lost). A DOWN transition for which
  no incident was ever opened is lost too: nobody could have been told.
- **duplicated**: a received message whose key was received before.
- **out of order**: per monitor the received messages must alternate DOWN, UP, DOWN, …
  starting with DOWN, an UP must close the incident whose DOWN came last, and a DOWN must
  open an incident newer than any announced before (see `disorder`). An immediate repeat
  of the same key is only a duplicate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

SUPERSEDED = frozenset({"superseded", "suppressed"})


@dataclass(frozen=True, slots=True)
class Flip:
    monitor: str  # the monitor's name
    at: float
    to: str  # "down" or "up"


@dataclass(frozen=True, slots=True)
class Message:
    at: float
    monitor_uid: str
    monitor: str
    event: str  # "down", "up", or another event kind
    key: str  # as the webhook sends it: `<event key>/<delivery id>`
    answer: int = 200  # what the receiver answered; 0 = it hung


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    monitor_uid: str
    closed: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    event_key: str
    status: str


@dataclass(frozen=True, slots=True)
class Window:
    """A scenario's span in wall time, and the id ranges of rows it created: (after, upto]."""

    name: str
    start: float
    end: float
    incidents: tuple[int, int] = (0, 0)
    transitions: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class Row:
    monitor: str
    flips: int = 0
    transitions: int = 0
    down: int = 0
    up: int = 0
    lost: int = 0
    superseded: int = 0
    duplicated: int = 0
    out_of_order: int = 0

    FIGURES = ("flips", "transitions", "down", "up", "lost", "superseded", "duplicated", "out_of_order")

    def add(self, other: Row) -> None:
        for f in self.FIGURES:
            setattr(self, f, getattr(self, f) + getattr(other, f))


@dataclass(slots=True)
class Report:
    window: Window
    rows: list[Row]
    recovery_s: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> Row:
        t = Row("total")
        for r in self.rows:
            t.add(r)
        return t


def event_key(key: str) -> str:
    """The webhook's `key` is `<event key>/<delivery id>`: the event key names what was announced."""
    return key.split("/", 1)[0]


def incident_of(key: str) -> int | None:
    """`i:17:down` (or `i:17:down/42`) -> 17; keys of other events -> None."""
    parts = event_key(key).split(":")
    if len(parts) == 3 and parts[0] == "i" and parts[1].isdigit():
        return int(parts[1])
    return None


def received(messages: Iterable[Message]) -> list[Message]:
    """The DOWN and UP messages the receiver has, in arrival order.

    A message answered 200 is received. One the receiver hung on and never accepted later is
    received too, at its first arrival: it did arrive, and its sender cannot know otherwise
    (it may rightly send the UP that follows it). A refused one (500) is not received.
    """
    alerts = [m for m in messages if m.event in ("down", "up")]
    accepted = {event_key(m.key) for m in alerts if m.answer == 200}
    out, hung = [], set()
    for m in sorted(alerts, key=lambda m: m.at):
        k = event_key(m.key)
        if m.answer == 200 or (m.answer == 0 and k not in accepted and k not in hung):
            out.append(m)
            if m.answer == 0:
                hung.add(k)
    return out


def disorder(messages: list[Message]) -> list[Message]:
    """The received messages of one monitor that break the DOWN, UP, DOWN, … alternation.

    `announced` is the outage the reader believes is going on. A DOWN while one is announced,
    or older than one already announced, is wrong; an UP of an outage not announced is wrong.
    Each wrong message counts once: a new outage's DOWN replaces the announced one and a
    stale DOWN announces nothing, so one fault does not taint every later message.
    """
    bad: list[Message] = []
    last: Message | None = None
    announced: int | None = None
    newest = 0
    for m in messages:
        if last is not None and event_key(m.key) == event_key(last.key):
            continue  # an immediate repeat: a duplicate, not a reordering
        inc, down = incident_of(m.key), m.event == "down"
        stale = down and inc is not None and inc <= newest
        if down:
            wrong = stale or (last is not None and last.event == "down" and announced is not None)
        else:
            wrong = last is None or announced is None or (inc is not None and inc != announced)
        if wrong:
            bad.append(m)
        if down and not stale:
            announced, newest = (inc if inc is not None else -1), max(newest, inc or 0)
        elif not down and (inc is None or inc == announced):
            announced = None
        last = m
    return bad


def duplicates(messages: list[Message]) -> list[Message]:
    seen: set[str] = set()
    out = []
    for m in messages:
        if event_key(m.key) in seen:
            out.append(m)
        seen.add(event_key(m.key))
    return out


def fate(incident: Incident, event: str, got: set[str], statuses: dict[str, set[str]], live: bool) -> str:
    """`ok`, `superseded` or `lost` for one expected message of an incident."""
    key = f"i:{incident.id}:{event}"
    if key in got:
        return "ok"
    if statuses.get(key, set()) & SUPERSEDED or (event == "up" and not live and incident.closed):
        return "superseded"  # recorded as not to be sent, or its monitor was deleted and it was closed
    return "lost"


def analyse(
    window: Window,
    names: dict[str, str],
    flips: Iterable[Flip],
    messages: Iterable[Message],
    incidents: Iterable[Incident],
    deliveries: Iterable[Delivery],
    down_transitions: dict[str, int],
    transitions: dict[str, int],
    live: set[str],
) -> Report:
    """The figures of one window, per monitor uid in `names` (uid -> name).

    `messages` is the receiver's whole log (ordering and duplicates need what came before the
    window; a message counts in the window it arrived in). `incidents` and the transition
    counts are those created in the window; `deliveries` may be all of them.
    """
    inside = lambda t: window.start <= t <= window.end  # noqa: E731
    rows = {uid: Row(name) for uid, name in names.items()}
    uid_of = {name: uid for uid, name in names.items()}
    for f in flips:
        if f.monitor in uid_of and inside(f.at):
            rows[uid_of[f.monitor]].flips += 1
    for uid, n in transitions.items():
        if uid in rows:
            rows[uid].transitions += n
    by_monitor: dict[str, list[Message]] = defaultdict(list)
    for m in received(messages):
        by_monitor[m.monitor_uid].append(m)
    for uid, seq in by_monitor.items():
        if uid not in rows:
            continue
        row = rows[uid]
        for m in seq:
            if inside(m.at):
                row.down += m.event == "down"
                row.up += m.event == "up"
        row.duplicated += sum(inside(m.at) for m in duplicates(seq))
        row.out_of_order += sum(inside(m.at) for m in disorder(seq))
    got = {event_key(m.key) for seq in by_monitor.values() for m in seq}
    statuses: dict[str, set[str]] = defaultdict(set)
    for d in deliveries:
        statuses[d.event_key].add(d.status)
    opened: Counter[str] = Counter()
    for inc in incidents:
        if inc.monitor_uid not in rows:
            continue
        opened[inc.monitor_uid] += 1
        fates = {fate(inc, e, got, statuses, inc.monitor_uid in live) for e in ("down", "up")}
        if "lost" in fates:
            rows[inc.monitor_uid].lost += 1
        elif "superseded" in fates:
            rows[inc.monitor_uid].superseded += 1
    for uid, downs in down_transitions.items():
        if uid in rows:
            rows[uid].lost += max(0, downs - opened[uid])  # DOWNs that never became an incident
    return Report(window, sorted(rows.values(), key=lambda r: r.monitor))


HEADER = ("monitor", "flips", "transitions", "DOWN", "UP", "lost", "superseded", "duplicated", "out of order")


def render(report: Report) -> str:
    """A fixed-width table of the window's figures, per monitor and in total."""
    w = report.window
    rec = "n/a" if report.recovery_s is None else f"{report.recovery_s:.1f} s"
    lines = [f"== {w.name} ({w.end - w.start:.0f} s; recovery {rec})"]
    widths = [max(12, *(len(r.monitor) for r in report.rows))] + [len(h) for h in HEADER[1:]]
    fmt = "  ".join(f"{{:>{n}}}" if i else f"{{:<{n}}}" for i, n in enumerate(widths))
    lines.append(fmt.format(*HEADER))
    for r in [*report.rows, report.total]:
        lines.append(fmt.format(r.monitor, *(getattr(r, f) for f in Row.FIGURES)))
    lines += [f"  note: {n}" for n in report.notes]
    return "\n".join(lines)
