"""Is an admin's regex safe to run on every save? Refuse what can backtrack catastrophically.

Python's `re` backtracks, so a pattern such as `(a+)+$` takes exponential time on a long
non-matching value. We refuse, when the field is defined: a quantified group that contains
another quantifier or an alternation (the classic nested/overlapping repeats), back
references, look-arounds, and patterns over 200 characters.
"""

from __future__ import annotations

import re
import re._constants as C  # type: ignore[import-not-found]
import re._parser as P  # type: ignore[import-not-found]
from typing import Any

from crm_tui.domain.kernel.validation import BadValue

MAX_PATTERN = 200
_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}


def _risky(items: Any, inside_repeat: bool) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            if inside_repeat and high > 1:
                return "nested"
            found = _risky(sub, inside_repeat or high > 1)
            if found:
                return found
        elif op == C.SUBPATTERN:
            found = _risky(av[-1], inside_repeat)
            if found:
                return found
        elif op == C.BRANCH:
            if inside_repeat:
                return "alternation"
            for branch in av[1]:
                found = _risky(branch, inside_repeat)
                if found:
                    return found
        elif op in (C.GROUPREF, C.GROUPREF_EXISTS):
            return "backref"
        elif op in (C.ASSERT, C.ASSERT_NOT):
            return "lookaround"
    return None


def check_pattern(pattern: str) -> str:
    """The pattern itself if it compiles and cannot blow up; BadValue naming the problem."""
    if len(pattern) > MAX_PATTERN:
        raise BadValue("forms.error.pattern_long", max=MAX_PATTERN)
    try:
        re.compile(pattern)
        parsed = P.parse(pattern)
    except re.error as exc:
        raise BadValue("forms.error.pattern_invalid", detail=str(exc)) from None
    problem = _risky(parsed, False)
    if problem:
        raise BadValue(f"forms.error.pattern_{problem}")
    return pattern
