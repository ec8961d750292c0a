"""The outcome vocabulary, one of each: the run's `Verdict`, a check's `Judgement`, and
`Judged`, the result of judging one check, with the figures a report and an error show.

`enforce` turns a `Judged` into the check's outcome: a failure raises `CheckFailed` (an
AssertionError: the target was measured and found wrong), an inconclusive one `EvidenceMissing`
(the gate could not tell). `compare` is the one comparison of a measured value with a limit, so
a suite's threshold check is a single call (`expect` fixture) instead of a record and an assert
that repeats the comparison.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Literal, TypedDict, Unpack

from releasegate.errors import CheckFailed, EvidenceMissing


class Verdict(IntEnum):
    """The decision; its value is the exit code of every command that decides."""

    GO = 0
    ROLLBACK = 1
    HOLD = 2

    @classmethod
    def parse(cls, name: str) -> Verdict:
        """The verdict written as a word ("GO", "rollback"); ValueError names what was given."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(
                f"{name!r} is not a verdict (one of {', '.join(v.name for v in cls)})"
            ) from None


VerdictName = Literal["GO", "ROLLBACK", "HOLD"]


class Judgement(Enum):
    PASS = "pass"  # noqa: S105 - a judgement, not a password
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Figures(TypedDict, total=False):
    """What a judged check was measured against, as keyword arguments of `Judged`'s makers."""

    measured: object
    limit: object
    samples: int | None
    where: str | None


class Where(TypedDict, total=False):
    """How a compared value is shown and placed: its unit, its sample count, its URL or file."""

    unit: str
    samples: int | None
    where: str | None


@dataclass(frozen=True)
class Judged:
    """One check judged: pass, fail or inconclusive, the line that says why, and the figures.

    `measured` and `limit` are what was compared (a number, a text, an interval), `samples` how
    many observations it rests on, `where` the URL or file it was measured at.
    """

    judgement: Judgement
    message: str
    measured: object = None
    limit: object = None
    samples: int | None = None
    where: str | None = None

    @property
    def ok(self) -> bool:
        return self.judgement is Judgement.PASS

    @classmethod
    def passed(cls, message: str = "", **figures: Unpack[Figures]) -> Judged:
        return cls(Judgement.PASS, message, **figures)

    @classmethod
    def failed(cls, message: str, **figures: Unpack[Figures]) -> Judged:
        return cls(Judgement.FAIL, message, **figures)

    @classmethod
    def inconclusive(cls, message: str, **figures: Unpack[Figures]) -> Judged:
        return cls(Judgement.INCONCLUSIVE, message, **figures)


def enforce(judged: Judged, *, context: str = "") -> None:
    """Raise what the judgement means for the check (nothing for a pass). `context` (such as
    "env=prod") is appended to the message in parentheses."""
    __tracebackhide__ = True
    message = f"{judged.message} ({context})" if context else judged.message
    if judged.judgement is Judgement.FAIL:
        raise CheckFailed(
            message, measured=judged.measured, threshold=judged.limit, url=judged.where
        )
    if judged.judgement is Judgement.INCONCLUSIVE:
        raise EvidenceMissing(message)


Comparison = Literal["<", "<=", ">", ">=", "==", "!=", "in"]
Limit = float | str | list[int]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
    "!=": operator.ne,
    "in": lambda value, allowed: value in allowed,
}
# How a failed comparison reads: "812 ms is over the limit of 500 ms"
_BROKEN: dict[str, str] = {
    "<=": "over the limit of",
    "<": "not under the limit of",
    ">=": "under the minimum of",
    ">": "not over the minimum of",
    "==": "not the expected",
    "!=": "the forbidden",
    "in": "not one of",
}


def show(value: object, unit: str = "") -> str:
    """A value as a person reads it: numbers without float noise, with their unit."""
    if isinstance(value, float):
        text = f"{value:.6g}" if math.isfinite(value) else str(value)
    else:
        text = str(value)
    if not unit or isinstance(value, str):
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def compare(
    name: str,
    value: float | str | None,
    comparison: Comparison,
    limit: Limit,
    **shown: Unpack[Where],
) -> Judged:
    """`value comparison limit` judged: a pass, a failure that names both figures, or
    inconclusive when nothing was measured (a value of None is no evidence, never a pass)."""
    unit, where = shown.get("unit", ""), shown.get("where")
    at = f" at {where}" if where else ""
    if value is None:
        judgement, message = Judgement.INCONCLUSIVE, f"{name}: nothing measured{at}"
    elif _COMPARE[comparison](value, limit):
        judgement = Judgement.PASS
        message = f"{name} {show(value, unit)} {comparison} {show(limit, unit)}"
    else:
        judgement = Judgement.FAIL
        message = f"{name} {show(value, unit)}{at} is {_BROKEN[comparison]} {show(limit, unit)}"
    return Judged(judgement, message, value, limit, shown.get("samples"), where)
