"""Conditions as pure decisions: Reconciled's outcome, conditions merged by type, the event to record."""

from __future__ import annotations

from typing import Any

import pytest

from app.controller.kube.events import condition_event
from app.controller.kube.writer import patch_body, shows
from app.controller.status import merge_by_type, object_status, reconciled


def cond(type_: str, status: str = "True", reason: str = "R") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": ""}


@pytest.mark.parametrize(
    ("problems", "missing", "last_valid", "error", "expected"),
    [
        ([], [], True, None, ("True", "Cached", "generation 3 cached")),
        (
            [],
            ["Secret token"],
            True,
            None,
            ("True", "Cached", "generation 3 cached; waiting for its references"),
        ),
        (
            ["spec.x: bad"],
            [],
            True,
            None,
            ("True", "Cached", "generation 3 rejected; the last valid spec runs"),
        ),
        (["spec.x: bad"], [], False, None, ("True", "Cached", "generation 3 rejected; nothing runs")),
        ([], [], True, "db down", ("False", "CacheWriteFailed", "db down")),
    ],
    ids=["cached", "waiting", "rejected-runs-last", "rejected-nothing", "cache-error"],
)
def test_reconciled_says_the_outcome(problems, missing, last_valid, error, expected) -> None:
    c = reconciled(3, problems, missing, last_valid, error)
    assert (c["status"], c["reason"], c["message"]) == expected and c["observedGeneration"] == 3


def test_object_status_carries_the_cache_error() -> None:
    st = object_status(
        {},
        "Monitor",
        {"type": "http"},
        2,
        [],
        [],
        True,
        cache_error="the resource cache could not be written",
    )
    by_type = {c["type"]: c for c in st["conditions"]}
    assert by_type["Reconciled"]["status"] == "False" and by_type["Ready"]["status"] == "True"


def test_conditions_merge_by_type_keeping_others_in_place() -> None:
    theirs = [cond("Audited"), cond("Valid", "True"), cond("Progressing")]
    ours = [cond("Valid", "False", "InvalidSpec"), cond("Reconciled"), cond("Ready")]
    merged = merge_by_type(theirs, ours)
    assert [c["type"] for c in merged] == ["Audited", "Valid", "Progressing", "Reconciled", "Ready"]
    assert merged[1]["reason"] == "InvalidSpec"


def test_the_patch_keeps_others_conditions_and_names_its_resource_version() -> None:
    status = {"conditions": [cond("Audited"), cond("Valid")]}
    body = patch_body(status, {"conditions": [cond("Valid", "False")], "target": "x"}, "42")
    assert body["metadata"] == {"resourceVersion": "42"}
    assert [c["type"] for c in body["status"]["conditions"]] == ["Audited", "Valid"]
    assert body["status"]["target"] == "x"
    # what the object shows is judged on our conditions only
    assert shows({"conditions": [cond("Audited"), cond("Valid")]}, {"conditions": [cond("Valid")]})
    assert not shows({"conditions": [cond("Audited")]}, {"conditions": [cond("Valid")]})


@pytest.mark.parametrize(
    ("problems", "missing", "warned", "expected"),
    [
        (["spec.interval: too short"], [], False, ("Warning", "InvalidSpec", "spec.interval: too short")),
        ([], ["provider nowhere"], False, ("Warning", "ReferenceNotFound", "waiting for provider nowhere")),
        ([], [], True, ("Normal", "Valid", "generation 4 is valid")),
        ([], [], False, None),
    ],
    ids=["invalid", "missing", "recovered", "quiet"],
)
def test_the_event_an_object_calls_for(problems, missing, warned, expected) -> None:
    assert condition_event(problems, missing, warned, 4) == expected
