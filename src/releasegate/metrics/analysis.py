"""A metric measured `count` times, `interval` apart after `initial_delay`, and judged with Argo
Rollouts' limits (docs/metrics.md states the rules; tests/unit/test_metric_analysis.py holds
every limit to them):

- failed when more measurements failed than `failure_limit`;
- in error (no evidence: HOLD) when more than `consecutive_error_limit` provider errors came
  in a row;
- inconclusive when more were inconclusive than `inconclusive_limit`;
- inconclusive when no measurement succeeded at all (no data, errors below their limit): no
  data never passes;
- else passed.

Measuring stops as soon as one of the first three is certain (as Argo stops an analysis run),
so a failing check does not wait out its remaining intervals. Every measurement, an error too,
is one of `count`, which bounds the check's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from releasegate.metrics.measurement import Measured, shown
from releasegate.outcome import Figures, Judged


@dataclass(frozen=True)
class Limits:
    count: int = 1
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = 4


def _consecutive_errors(measured: Sequence[Measured]) -> int:
    run = 0
    for m in reversed(measured):
        if m.outcome != "error":
            break
        run += 1
    return run


def settled(measured: Sequence[Measured], limits: Limits) -> bool:
    """Whether measuring can stop: `count` taken, or a limit already exceeded."""
    outcomes = [m.outcome for m in measured]
    return (
        len(measured) >= limits.count
        or outcomes.count("failure") > limits.failure_limit
        or outcomes.count("inconclusive") > limits.inconclusive_limit
        or _consecutive_errors(measured) > limits.consecutive_error_limit
    )


def judge(name: str, measured: Sequence[Measured], limits: Limits, unit: str = "") -> Judged:
    """The check's verdict from its measurements."""
    outcomes = [m.outcome for m in measured]
    failed, unsure = outcomes.count("failure"), outcomes.count("inconclusive")
    errors, succeeded = outcomes.count("error"), outcomes.count("success")
    values = [m.value for m in measured]
    taken = f"{len(measured)} measurement{'s' if len(measured) != 1 else ''}"
    figures: Figures = {"measured": values, "samples": len(measured)}
    if failed > limits.failure_limit:
        first = next(m for m in measured if m.outcome == "failure")
        return Judged.failed(
            f"{name}: {failed} of {taken} failed (failure_limit {limits.failure_limit});"
            f" values {shown(values, unit)}; first failure: {first.message}",
            **figures,
        )
    in_a_row = _consecutive_errors(measured)
    if in_a_row > limits.consecutive_error_limit:
        return Judged.inconclusive(
            f"{name}: {in_a_row} provider errors in a row (consecutive_error_limit"
            f" {limits.consecutive_error_limit}): {measured[-1].message}",
            **figures,
        )
    if unsure > limits.inconclusive_limit:
        first = next(m for m in measured if m.outcome == "inconclusive")
        return Judged.inconclusive(
            f"{name}: {unsure} of {taken} inconclusive (inconclusive_limit"
            f" {limits.inconclusive_limit}): {first.message}",
            **figures,
        )
    if succeeded == 0:
        last = measured[-1].message if measured else "nothing was measured"
        return Judged.inconclusive(
            f"{name}: no measurement succeeded in {taken} ({errors} errors, {unsure}"
            f" inconclusive, {failed} failed): {last}",
            **figures,
        )
    notes = [
        f"{n} {kind}"
        for n, kind in ((failed, "failed"), (unsure, "inconclusive"), (errors, "errors"))
        if n
    ]
    extra = f" ({', '.join(notes)}, within the limits)" if notes else ""
    return Judged.passed(
        f"{name}: {succeeded} of {taken} succeeded{extra}; values {shown(values, unit)}",
        **figures,
    )


def measure_all(
    take: Callable[[], Measured],
    limits: Limits,
    *,
    interval_s: float,
    initial_delay_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Measured]:
    """Take measurements until `settled`: at most `count`, `interval_s` apart."""
    if initial_delay_s > 0:
        sleep(initial_delay_s)
    measured: list[Measured] = []
    while True:
        started = time.monotonic()
        measured.append(take())
        if settled(measured, limits):
            return measured
        sleep(max(0.0, interval_s - (time.monotonic() - started)))
