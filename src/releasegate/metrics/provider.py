"""The one interface every metric provider implements, and the values they give.

A provider answers one question, `read()`: the metric's value now. A value is a number, a list
of numbers (a Prometheus vector of several series) or any JSON; `None` is *no data* (an empty
Prometheus result, NaN, a JSON field that is absent), which a condition never sees: no data is
inconclusive, never a pass. A provider that could not ask raises `ProviderError`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from releasegate.errors import ProviderError

Value = Any  # a float, a list of floats, or JSON (dict, list, str, bool)


@dataclass(frozen=True)
class Reading:
    """What a provider read: the value (None: no data) and a line saying where from."""

    value: Value
    note: str


class Provider(Protocol):
    """A metric's source. `where` names it for messages (a URL, a query, a command)."""

    @property
    def where(self) -> str: ...

    def read(self) -> Reading:
        """The value now; ProviderError when it could not be read."""
        ...


def number_or_none(value: float) -> float | None:
    """NaN (Prometheus's 0/0 over a window without traffic) is no data, not a number."""
    return None if math.isnan(value) else value


def parse_text(text: str, where: str) -> Value:
    """A command's or an answer's text as a value: a number, else JSON; ProviderError else."""
    stripped = text.strip()
    if not stripped:
        raise ProviderError(f"empty output, not a number or JSON ({where})")
    try:
        return number_or_none(float(stripped))
    except ValueError:
        pass
    try:
        return normalise(json.loads(stripped))
    except ValueError:
        shown = stripped if len(stripped) <= 80 else f"{stripped[:77]}..."
        raise ProviderError(f"output is not a number or JSON: {shown!r} ({where})") from None


def normalise(value: Value) -> Value:
    """JSON numbers as floats (NaN: no data) and numeric strings as numbers, so `result >= 0.8`
    works whatever the source wrote; everything else as it is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return number_or_none(float(value))
    if isinstance(value, str):
        try:
            return number_or_none(float(value))
        except ValueError:
            return value
    return value
