"""Sharing equal parts of cached specs and statuses: the values read the same, the memory is shared."""

from __future__ import annotations

from typing import Any

from app.resources.interning import Interner
from app.resources.monitor import MonitorSpec, MonitorType


def http(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "http", "interval": "30s", "http": {"url": url, **extra}}


def test_shared_specs_read_exactly_as_parsed() -> None:
    raw = [http("http://a.example/"), http("http://b.example/", headers=[{"name": "X", "value": "1"}]),
           http("http://a.example/")]  # fmt: skip
    shared = Interner()

    specs = [shared.share(MonitorSpec.model_validate(r)) for r in raw]

    for spec, r in zip(specs, raw, strict=True):
        fresh = MonitorSpec.model_validate(r)
        assert spec == fresh and spec.model_dump() == fresh.model_dump()
        assert spec.model_fields_set == fresh.model_fields_set
        assert spec.type is MonitorType.HTTP  # a str enum stays the enum, not its plain value
    assert specs[0] is specs[2]  # equal specs are one object
    assert specs[0].http is not None and specs[1].http is not None
    assert specs[0].http.tls is specs[1].http.tls  # the default TLS settings, once
    assert specs[0].http.acceptedStatusCodes is specs[1].http.acceptedStatusCodes


def test_equal_statuses_and_labels_are_one_object() -> None:
    shared = Interner()
    status = {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}

    a = shared.share({**status})
    b = shared.share({"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]})
    c = shared.share({"observedGeneration": 2, "conditions": []})

    assert a is b and a == status
    assert c is not a and c == {"observedGeneration": 2, "conditions": []}
    assert shared.share({}) is shared.share({}) and shared.share(None) is None


def test_values_that_print_alike_stay_apart() -> None:
    """Durations print rounded ("2s" for 1.5 s): sharing must compare the values, not their text."""
    shared = Interner()
    a = shared.share(MonitorSpec.model_validate({**http("http://a.example/"), "timeout": "1500ms"}))
    b = shared.share(MonitorSpec.model_validate({**http("http://a.example/"), "timeout": "2s"}))

    assert a is not b and (a.timeout, b.timeout) == (1.5, 2.0)
