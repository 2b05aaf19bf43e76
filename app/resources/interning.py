"""Equal read-only values share one object: what keeps 100k cached monitors in a few hundred MB.

A parsed MonitorSpec is a tree of pydantic models, lists and strings, and most of it is
the same from one monitor to the next: the default `HttpTls`, `acceptedStatusCodes`, an
empty header list, the set of fields given, the Valid/Reconciled/Ready conditions of the
cached status. `Interner.share` walks a value and puts the first equal value it has seen
in place of each part, so 100k monitors hold one `HttpTls()` and a few condition dicts
rather than 100k of each (see docs/performance.md for the bytes per monitor).

The shared values are read-only by contract: the catalog hands out specs and statuses to
read, never to change (nothing in `app/` assigns to them). An `Interner` lives for one
catalog build and is then dropped, so a value no monitor uses any more is freed with it.
"""

from __future__ import annotations

import enum
import hashlib
import json
from typing import Any

from pydantic import BaseModel

_setattr = object.__setattr__
_PLAIN = (bool, int, float)


def _digest(text: str | bytes) -> bytes:
    """A value's JSON text, short: the pool holds a key per distinct value for the whole build."""
    return hashlib.blake2b(text.encode() if isinstance(text, str) else text, digest_size=16).digest()


class Interner:
    def __init__(self) -> None:
        self._pool: dict[Any, Any] = {}

    def share(self, value: Any) -> Any:
        """`value`, or an equal one seen before. A model's parts are shared likewise (in place)."""
        if isinstance(value, BaseModel):
            return self._model(value)
        if isinstance(value, (dict, list)):
            return self._json(value)
        if type(value) is str:  # not a str enum, which equals its plain value
            return self._pool.setdefault(value, value)
        return value

    def _json(self, value: dict[str, Any] | list[Any]) -> Any:
        """Plain JSON values (statuses, labels), keyed by their JSON text: one C call, not a walk."""
        try:
            key = (type(value), _digest(json.dumps(value, separators=(",", ":"))))
        except (TypeError, ValueError):
            return value  # not plain JSON (models inside): left as it is
        return self._pool.setdefault(key, value)

    def _model(self, model: BaseModel) -> BaseModel:
        """Its parts shared first, then the model itself, keyed by what its fields hold: the shared
        part's identity, or a plain value with its type (1.5 s and 2 s stay apart, True and 1 too;
        the JSON form would not do, as it rounds durations)."""
        if model.__pydantic_extra__ or model.__pydantic_private__:
            return model
        given = self._pool.setdefault(frozenset(model.__pydantic_fields_set__), model.__pydantic_fields_set__)
        fields = model.__dict__
        parts: list[Any] = [id(given)]
        for name, v in fields.items():
            if v is None:
                parts.append(None)
            elif type(v) in _PLAIN:
                parts.append((type(v).__name__, v))  # repr keeps floats exact
            elif isinstance(v, enum.Enum):
                parts.append(id(v))
            else:
                fields[name] = v = self.share(v)  # same keys, so replacing values while iterating is safe
                parts.append(id(v))
        _setattr(model, "__pydantic_fields_set__", given)
        return self._pool.setdefault((type(model), _digest(repr(parts))), model)  # type: ignore[no-any-return]
