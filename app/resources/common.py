"""Building blocks every kind uses: durations, Secret references, label selectors, metadata."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

API_GROUP = "kubekuma.io"
API_VERSION = "v1alpha1"
FULL_API_VERSION = f"{API_GROUP}/{API_VERSION}"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
DURATION_PATTERN = r"^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+)$"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """'90s', '5m', '1h30m', '1.5s', '250ms', '7d' -> seconds. A bare number means seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a string such as 30s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a duration is a string such as 30s, 5m or 1h")
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):  # a bare number means seconds, quoted or not
        return float(text)
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"{value!r} is not a duration; use a number with ms, s, m, h, d or w, e.g. 30s")
    return total


def format_duration(seconds: float) -> str:
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    out, rest = [], round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "duration", "pattern": DURATION_PATTERN}),
]


class Model(BaseModel):
    """Strict about unknown fields, so a typo in a manifest is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class SecretKeyRef(Model):
    """A key of a Secret. In folder mode: a Secret manifest in the folder, or `env:` a variable."""

    name: str | None = Field(None, description="Secret name (same namespace as the referrer)")
    key: str = Field("value", description="key inside the Secret's data")
    env: str | None = Field(None, description="folder mode: read this environment variable instead")
    optional: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> SecretKeyRef:
        if not self.name and not self.env:
            raise ValueError("a secret reference needs name (a Secret) or env (a variable)")
        return self


class ValueFrom(Model):
    secretKeyRef: SecretKeyRef


class NameValue(Model):
    """A header or parameter: a literal `value` or one taken from a Secret (`valueFrom`)."""

    name: str = Field(min_length=1)
    value: str | None = None
    valueFrom: ValueFrom | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> NameValue:
        if (self.value is None) == (self.valueFrom is None):
            raise ValueError("give exactly one of value or valueFrom")
        return self


class LabelSelectorRequirement(Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values(self) -> LabelSelectorRequirement:
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs values")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(Model):
    """Kubernetes label selector; an empty selector matches everything."""

    matchLabels: dict[str, str] = Field(default_factory=dict)
    matchExpressions: list[LabelSelectorRequirement] = Field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        for k, v in self.matchLabels.items():
            if labels.get(k) != v:
                return False
        for req in self.matchExpressions:
            present = req.key in labels
            if req.operator == "In" and labels.get(req.key) not in req.values:
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True


class ObjectRef(Model):
    name: str = Field(min_length=1)
    namespace: str | None = None


_DNS_LABEL = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"


class ObjectMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=253, pattern=_DNS_LABEL)
    namespace: str | None = Field(None, pattern=_DNS_LABEL)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    uid: str | None = None
    generation: int | None = None
    resourceVersion: str | None = None


class Condition(BaseModel):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    lastTransitionTime: str
    observedGeneration: int | None = None
