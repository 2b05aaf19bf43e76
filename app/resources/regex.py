"""Regular expressions written in manifests, run by a linear-time engine (RE2).

Python's `re` backtracks: `(a+)+b` against a few dozen "a"s takes seconds, doubling with
each character, and one Silence matcher would freeze every check of the process. RE2
matches in time linear in the input and refuses what it cannot do in linear time
(backreferences, lookaround), so such a pattern is a validation error, not a stall. A
pattern is also limited in length and in the memory its automaton may take.
"""

from __future__ import annotations

from typing import Any, Protocol

import re2

MAX_PATTERN = 1024
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad manifest pattern is reported as a problem, not on stderr
_OPTIONS.max_mem = 1 << 20


class Pattern(Protocol):
    def fullmatch(self, text: str) -> Any: ...


def compile_pattern(pattern: str) -> Pattern:
    """A compiled RE2 pattern; ValueError saying why when it is too long or not linear-time RE2 syntax."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"a regular expression may have at most {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _OPTIONS)  # type: ignore[no-any-return]
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"bad regular expression ({reason}); RE2 syntax, without backreferences or lookaround"
        ) from None
