"""The metric judge's limits, every one, as docs/metrics.md states them (Argo Rollouts' rules,
with no data never a pass), and one measurement's outcome from its conditions."""

from __future__ import annotations

import pytest

from releasegate.conditions import compile_condition
from releasegate.metrics.analysis import Limits, judge, measure_all, settled
from releasegate.metrics.measurement import Conditions, Measured, judge_value
from releasegate.outcome import Judgement

S, F, I, E = "success", "failure", "inconclusive", "error"  # noqa: E741 - a table's letters


def _series(*outcomes: str) -> list[Measured]:
    values = {S: 0.9, F: 0.1, I: None, E: None}
    return [Measured(f"t{n}", values[o], o, f"{o} {n}") for n, o in enumerate(outcomes)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcomes", "limits", "expected"),
    [
        # every measurement succeeded
        ((S, S, S), Limits(count=3), Judgement.PASS),
        # failure_limit: failures allowed up to it, one more fails
        ((S, F, S), Limits(count=3), Judgement.FAIL),
        ((S, F, S), Limits(count=3, failure_limit=1), Judgement.PASS),
        ((F, F, S), Limits(count=3, failure_limit=1), Judgement.FAIL),
        # inconclusive_limit: the same for inconclusive measurements (no data among them)
        ((S, I, S), Limits(count=3), Judgement.INCONCLUSIVE),
        ((S, I, S), Limits(count=3, inconclusive_limit=1), Judgement.PASS),
        ((I, I, S), Limits(count=3, inconclusive_limit=1), Judgement.INCONCLUSIVE),
        # consecutive_error_limit: errors in a row beyond it leave no evidence
        ((E, E, E), Limits(count=3, consecutive_error_limit=2), Judgement.INCONCLUSIVE),
        ((E, E, S), Limits(count=3, consecutive_error_limit=2), Judgement.PASS),
        ((E, S, E, S, E), Limits(count=5, consecutive_error_limit=1), Judgement.PASS),
        ((E, E), Limits(count=2, consecutive_error_limit=1), Judgement.INCONCLUSIVE),
        # errors within their limit but nothing succeeded: never a pass
        ((E, E, E), Limits(count=3, consecutive_error_limit=4), Judgement.INCONCLUSIVE),
        # no data within the inconclusive limit, nothing succeeded: never a pass
        ((I, I), Limits(count=2, inconclusive_limit=5), Judgement.INCONCLUSIVE),
        ((I,), Limits(count=1, inconclusive_limit=1), Judgement.INCONCLUSIVE),
        # a failure outranks errors and inconclusive measurements
        ((E, I, F), Limits(count=3, inconclusive_limit=1), Judgement.FAIL),
        # nothing measured at all
        ((), Limits(count=1), Judgement.INCONCLUSIVE),
    ],
)
def test_the_limits_decide_the_check(
    outcomes: tuple[str, ...], limits: Limits, expected: Judgement
) -> None:
    assert judge("m", _series(*outcomes), limits).judgement is expected


def test_a_failed_check_names_the_metric_its_values_and_the_condition() -> None:
    measured = [Measured("t", 0.1, "failure", "0.1: `result >= 0.8` does not hold")] * 2

    message = judge("cache hit rate", measured, Limits(count=2)).message

    assert "cache hit rate" in message
    assert "[0.1, 0.1]" in message
    assert "`result >= 0.8`" in message


@pytest.mark.parametrize(
    ("outcomes", "limits", "stops_after"),
    [
        ((S, S, S, S), Limits(count=4), 4),
        ((F, S, S, S), Limits(count=4), 1),  # failure_limit 0 exceeded at once
        ((S, F, F, S), Limits(count=4, failure_limit=1), 3),
        ((I, S, S), Limits(count=3), 1),
        ((E, E, E, S, S, S), Limits(count=6, consecutive_error_limit=2), 3),
        ((E, E, S, E, E, S), Limits(count=6, consecutive_error_limit=2), 6),
    ],
)
def test_measuring_stops_as_soon_as_the_verdict_is_certain(
    outcomes: tuple[str, ...], limits: Limits, stops_after: int
) -> None:
    series = iter(_series(*outcomes))
    waits: list[float] = []

    taken = measure_all(lambda: next(series), limits, interval_s=5.0, sleep=waits.append)

    assert len(taken) == stops_after
    assert len(waits) == stops_after - 1  # no wait after the last measurement
    assert settled(taken, limits)


def test_the_initial_delay_comes_first() -> None:
    series = iter(_series(S, S))
    waits: list[float] = []

    measure_all(
        lambda: next(series), Limits(count=2), interval_s=3, initial_delay_s=7, sleep=waits.append
    )

    assert waits[0] == 7
    assert 2.5 < waits[1] <= 3


def _conditions(success: str, failure: str | None = None, before: object = None) -> Conditions:
    return Conditions(
        compile_condition(success),
        None if failure is None else compile_condition(failure),
        before,
        "no value before the deploy under reports/: run the pre-deploy stage first",
    )


@pytest.mark.parametrize(
    ("value", "success", "failure", "before", "expected"),
    [
        (0.9, "result >= 0.8", None, None, S),
        (0.7, "result >= 0.8", None, None, F),  # only a success condition: not holding fails
        (0.7, "result >= 0.8", "result < 0.5", None, I),  # between the two: inconclusive
        (0.4, "result >= 0.8", "result < 0.5", None, F),
        (0.9, "result >= 0.8", "result > 0.85", None, F),  # the failure condition first
        (None, "result >= 0.8", None, None, I),  # no data is never a success
        (None, "result < 1", "result > 5", None, I),
        (3.0, "result - before <= 0", None, 3.0, S),
        (4.0, "result - before <= 0", None, 3.0, F),
        (4.0, "result - before <= 0", None, None, I),  # no stored before: inconclusive
        ([0.2, 0.9], "max(result) < 1 and len(result) == 2", None, None, S),
        ("text", "result > 1", None, None, E),  # cannot be evaluated: an error, not a failure
        ({"a": 1}, "result['b'] > 0", None, None, E),
    ],
)
def test_one_value_against_its_conditions(
    value: object, success: str, failure: str | None, before: object, expected: str
) -> None:
    outcome, _ = judge_value(value, _conditions(success, failure, before))

    assert outcome == expected


def test_a_missing_before_is_said_in_words() -> None:
    outcome, message = judge_value(4.0, _conditions("result <= before * 1.1"))

    assert outcome == I
    assert "run the pre-deploy stage first" in message
