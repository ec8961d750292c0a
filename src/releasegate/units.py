"""Units written in environment files ("500ms", "2.5s", "99.9%"), parsed once at load time."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h)?\s*$")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> float:
    """Seconds from `"500ms"`, `"5s"`, `"2m"`, `"1h"` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '5s' or '500ms', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        unit = match.group("unit") or "s"
        seconds = float(match.group("number")) * _SECONDS_PER_UNIT[unit]
    else:
        raise ValueError(f"expected a duration such as '5s' or '500ms', got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def parse_ratio(value: object) -> float:
    """A ratio in [0, 1] from `0.999`, `"99.9%"` or `"0.999"`."""
    if isinstance(value, bool):
        raise ValueError(f"expected a ratio such as 0.999 or '99.9%', got {value!r}")
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            ratio = float(value.strip()[:-1]) / 100.0
        elif isinstance(value, int | float | str):
            ratio = float(value)
        else:
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"expected a ratio such as 0.999 or '99.9%', got {value!r}") from None
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"a ratio must be between 0 and 1 (0% and 100%), got {value!r}")
    return ratio


def format_duration(seconds: float) -> str:
    """The shortest honest rendering: `850 ms`, `2.5 s`."""
    if seconds < 1.0:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.3g} s"
