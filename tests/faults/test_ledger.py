"""The fault suite's judgement on hand-made ledgers: what counts as lost, duplicated, out of order."""

from __future__ import annotations

import pytest

from tests.faults.ledger import (
    Delivery,
    Flip,
    Incident,
    Message,
    Window,
    analyse,
    disorder,
    duplicates,
    incident_of,
    render,
)

pytestmark = pytest.mark.faults

W = Window("w", start=100.0, end=200.0)
NAMES = {"u1": "m-01", "u2": "m-02"}


def msg(at: float, event: str, incident: int | None, uid: str = "u1", answer: int = 200) -> Message:
    key = f"i:{incident}:{event}/{int(at)}" if incident is not None else f"t:{int(at)}/{int(at)}"
    return Message(at, uid, NAMES[uid], event, key, answer)


def run(messages: list[Message], incidents: list[Incident], deliveries: list[Delivery] = (),  # type: ignore[assignment]
        downs: dict[str, int] | None = None, live: set[str] | None = None):  # type: ignore[no-untyped-def]  # fmt: skip
    downs = downs if downs is not None else {"u1": len([i for i in incidents if i.monitor_uid == "u1"])}
    return analyse(W, NAMES, [], messages, incidents, deliveries, downs, {}, live or {"u1", "u2"}).total


@pytest.mark.parametrize(
    ("events", "bad"),
    [
        pytest.param([("down", 1), ("up", 1), ("down", 2), ("up", 2)], [], id="alternating"),
        pytest.param([("up", 1), ("down", 2)], [0], id="starts-with-up"),
        pytest.param([("down", 1), ("down", 2)], [1], id="two-downs"),
        pytest.param([("down", 1), ("up", 1), ("up", 1)], [], id="immediate-repeat-is-only-a-duplicate"),
        pytest.param([("down", 1), ("up", 1), ("down", 1)], [2], id="stale-down-after-its-up"),
        pytest.param([("down", 2), ("up", 1)], [1], id="up-of-another-incident"),
        pytest.param([("down", 1), ("down", 2), ("up", 1), ("up", 2)], [1, 2], id="two-outages-interleaved"),
        pytest.param(
            [("down", 1), ("down", 2), ("up", 2), ("down", 3), ("up", 3)], [1], id="a-missing-up-counts-once"
        ),
        pytest.param(
            [("down", 1), ("up", 1), ("down", 1), ("down", 2), ("up", 2)], [2], id="stale-counts-once"
        ),
        pytest.param([("up", 7), ("down", 8), ("up", 8)], [0], id="a-lone-up-counts-once"),
        pytest.param([("down", None), ("up", None)], [], id="keys-without-incident"),
    ],
)
def test_disorder(events: list[tuple[str, int | None]], bad: list[int]) -> None:
    seq = [msg(100 + i, e, inc) for i, (e, inc) in enumerate(events)]
    assert disorder(seq) == [seq[i] for i in bad]


def test_duplicates_are_repeats_of_a_key() -> None:
    seq = [msg(101, "down", 1), msg(102, "up", 1), msg(103, "down", 1), msg(104, "down", 2)]
    assert duplicates(seq) == [seq[2]]


def test_incident_of() -> None:
    assert incident_of("i:17:down") == incident_of("i:17:up/42") == 17
    assert incident_of("t:3") is None and incident_of("r:17:abc:1") is None


def test_a_clean_window() -> None:
    t = run([msg(110, "down", 1), msg(115, "up", 1)], [Incident(1, "u1", closed=True)])
    assert (t.down, t.up, t.lost, t.superseded, t.duplicated, t.out_of_order) == (1, 1, 0, 0, 0, 0)


def test_only_answers_of_200_count_as_received() -> None:
    refused = [msg(110, "down", 1, answer=500), msg(111, "down", 1, answer=0)]
    t = run([*refused, msg(112, "down", 1), msg(115, "up", 1)], [Incident(1, "u1", closed=True)])
    assert (t.down, t.lost, t.duplicated) == (1, 0, 0)


def test_a_hung_message_never_accepted_later_counts_once_as_received() -> None:
    hung_then_accepted = [msg(110, "down", 1, answer=0), msg(112, "down", 1), msg(115, "up", 1)]
    only_hung = [msg(110, "down", 1, answer=0), msg(111, "down", 1, answer=0), msg(115, "up", 1)]
    for seq in (hung_then_accepted, only_hung):
        t = run(seq, [Incident(1, "u1", closed=True)])
        assert (t.down, t.up, t.lost, t.duplicated, t.out_of_order) == (1, 1, 0, 0, 0)


def test_an_incident_whose_down_never_arrived_is_lost() -> None:
    t = run([msg(115, "up", 1)], [Incident(1, "u1", closed=True)])
    assert (t.lost, t.out_of_order) == (1, 1)


def test_an_incident_left_open_is_lost() -> None:
    t = run([msg(110, "down", 1)], [Incident(1, "u1", closed=False)])
    assert t.lost == 1


def test_superseded_or_suppressed_deliveries_are_not_lost() -> None:
    rows = [Delivery("i:1:down", "superseded"), Delivery("i:1:up", "suppressed")]
    t = run([], [Incident(1, "u1", closed=True)], rows)
    assert (t.lost, t.superseded) == (0, 1)


def test_a_pending_delivery_is_still_lost() -> None:
    t = run([msg(110, "down", 1)], [Incident(1, "u1", closed=True)], [Delivery("i:1:up", "pending")])
    assert t.lost == 1


def test_a_deleted_monitor_needs_no_up_once_its_incident_is_closed() -> None:
    closed = run([msg(110, "down", 1)], [Incident(1, "u1", closed=True)], live={"u2"})
    left_open = run([msg(110, "down", 1)], [Incident(1, "u1", closed=False)], live={"u2"})
    assert (closed.lost, closed.superseded) == (0, 1)
    assert left_open.lost == 1


def test_a_down_transition_without_an_incident_is_lost() -> None:
    t = run([msg(110, "down", 1), msg(115, "up", 1)], [Incident(1, "u1", closed=True)], downs={"u1": 2})
    assert t.lost == 1


def test_messages_count_in_the_window_they_arrived_in() -> None:
    before = [msg(50, "down", 1), msg(60, "up", 1)]
    late = msg(150, "down", 1)  # a stale DOWN of the previous window's incident, arriving now
    t = run([*before, late], [])
    assert (t.down, t.up, t.duplicated, t.out_of_order) == (1, 0, 1, 1)


def test_flips_and_table() -> None:
    flips = [Flip("m-01", 110, "down"), Flip("m-01", 113, "up"), Flip("m-02", 300, "down")]
    report = analyse(W, NAMES, flips, [], [], [], {}, {"u1": 2}, {"u1", "u2"})
    assert [(r.monitor, r.flips, r.transitions) for r in report.rows] == [("m-01", 2, 2), ("m-02", 0, 0)]
    report.recovery_s = 1.25
    table = render(report)
    assert table.splitlines()[0] == "== w (100 s; recovery 1.2 s)"
    assert "out of order" in table and table.splitlines()[-1].startswith("total")
