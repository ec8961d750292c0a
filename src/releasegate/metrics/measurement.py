"""One measurement of a metric judged: success, failure, inconclusive or error, as Argo Rollouts
judges one (a failure condition that holds fails, a success condition that holds succeeds,
neither with both given is inconclusive), and more safely: no data is inconclusive, never a
success, and a condition that reads `before` without one stored is inconclusive, said in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from releasegate.conditions import Condition, ConditionError
from releasegate.errors import ProviderError
from releasegate.metrics.provider import Provider, Value
from releasegate.outcome import show

Outcome = Literal["success", "failure", "inconclusive", "error"]


@dataclass(frozen=True)
class Measured:
    """One measurement: when (ISO 8601, UTC), the value (None: no data or an error), its
    outcome and the line that says why (the provider's message for an error)."""

    at: str
    value: Value
    outcome: Outcome
    message: str


@dataclass(frozen=True)
class Conditions:
    """What a value is held to: `success`, optional `failure`, and `before` (None: not stored;
    `missing_before` then says why in words)."""

    success: Condition
    failure: Condition | None = None
    before: Value = None
    missing_before: str = "no value measured before the deploy"

    def needs_before(self) -> bool:
        return self.success.needs_before or (self.failure is not None and self.failure.needs_before)


def shown(value: Value, unit: str = "") -> str:
    if isinstance(value, list) and len(value) > 4:
        return f"[{', '.join(show(v, unit) for v in value[:4])}, ... {len(value)} values]"
    if isinstance(value, list):
        return f"[{', '.join(show(v, unit) for v in value)}]"
    return show(value, unit)


def judge_value(value: Value, conditions: Conditions, unit: str = "") -> tuple[Outcome, str]:
    """The outcome of one value and the line that says why."""
    if value is None:
        return "inconclusive", "no data"
    if conditions.needs_before() and conditions.before is None:
        return "inconclusive", f"{shown(value, unit)}, but {conditions.missing_before}"
    before = conditions.before
    said = shown(value, unit) + ("" if before is None else f" (before: {shown(before, unit)})")
    try:
        if conditions.failure is not None and conditions.failure.holds(value, before):
            return "failure", f"{said}: failure `{conditions.failure.text}` holds"
        if conditions.success.holds(value, before):
            return "success", f"{said}: `{conditions.success.text}`"
    except ConditionError as exc:
        return "error", str(exc)
    if conditions.failure is not None:
        return (
            "inconclusive",
            f"{said}: neither `{conditions.success.text}` nor `{conditions.failure.text}`",
        )
    return "failure", f"{said}: `{conditions.success.text}` does not hold"


def measure_once(provider: Provider, conditions: Conditions, unit: str = "") -> Measured:
    """Read the provider once and judge the value; a provider error is an `error` measurement."""
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        reading = provider.read()
    except ProviderError as exc:
        return Measured(at, None, "error", str(exc))
    outcome, message = judge_value(reading.value, conditions, unit)
    if reading.value is None:
        message = reading.note  # "no data: the query returned no series"
    return Measured(at, reading.value, outcome, message)
