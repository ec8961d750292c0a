"""The SLO gate's stopping rule (slo/stopping.py): each objective as a share against a limit,
percentiles read from the same sequence as order statistics, a latency percentile just over its
objective passed wrongly in under alpha of seeded runs across every look (where the fixed-n
order-statistic interval read at every look is wrong far more often), and the Decider stopping
on a clear failure after a handful of samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from releasegate.outcome import Judgement
from releasegate.probe import Sample
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.statistics import order_ranks
from releasegate.slo.stopping import (
    Decider,
    flawless_samples_needed,
    judge_events,
    prior_for,
    quantile_bounds,
    read,
    share_limit,
)

CONFIDENCE = 0.95
P95 = Objective(Indicator.LATENCY, 500.0, 0.95)
P50 = Objective(Indicator.LATENCY, 100.0, 0.5)
ERRORS = Objective(Indicator.ERROR_RATIO, 0.01)
AVAILABILITY = Objective(Indicator.AVAILABILITY, 0.99)
RATE_LIMITED = Objective(Indicator.RATE_LIMITED, 0.05)
LOOK_EVERY, LOOKS, REPETITIONS = 10, 100, 300
# a p95 just over 500 ms: 5.1 % of answers slower (a PASS is wrong)
JUST_OVER = 0.051


def sample(latency_ms: float = 10.0, status: int | None = 200) -> Sample:
    return Sample(0.0, "GET /", status, latency_ms, None if status else "ReadTimeout: slow")


@pytest.mark.parametrize(
    ("objective", "limit"),
    [(P95, 0.05), (P50, 0.5), (ERRORS, 0.01), (AVAILABILITY, 0.01), (RATE_LIMITED, 0.05)],
)
def test_every_objective_is_a_share_against_a_limit(objective: Objective, limit: float) -> None:
    assert share_limit(objective) == pytest.approx(limit)


def test_what_counts_against_each_objective() -> None:
    slow, timed_out, failed, limited = (
        sample(600.0),
        sample(100.0, None),
        sample(status=503),
        sample(status=429),
    )

    assert [read([s], P95, CONFIDENCE).events for s in (slow, timed_out, failed)] == [1, 1, 0]
    assert [read([s], ERRORS, CONFIDENCE).events for s in (timed_out, failed, limited)] == [
        1,
        1,
        0,
    ]
    assert read([limited], RATE_LIMITED, CONFIDENCE).events == 1


def test_a_clean_run_shows_availability_once_the_sequence_can_and_not_before() -> None:
    needed = flawless_samples_needed(AVAILABILITY, CONFIDENCE)
    assert needed is not None

    before = read([sample()] * (needed - 1), AVAILABILITY, CONFIDENCE)
    at = read([sample()] * needed, AVAILABILITY, CONFIDENCE)

    assert before.judgement is Judgement.INCONCLUSIVE
    assert at.judgement is Judgement.PASS
    assert at.estimate == 1.0
    assert at.lower >= 0.99
    # the price of looking at every batch: more than the 381 of a single fixed-n look
    assert 381 < needed < 600


def test_a_limit_of_zero_fails_on_the_first_event_and_never_passes() -> None:
    strict = Objective(Indicator.ERROR_RATIO, 0.0)

    assert judge_events(0, 100_000, strict, CONFIDENCE) is Judgement.INCONCLUSIVE
    assert judge_events(1, 100_000, strict, CONFIDENCE) is Judgement.FAIL
    assert flawless_samples_needed(strict, CONFIDENCE) is None


def test_the_percentile_bounds_are_order_statistics_around_the_estimate() -> None:
    values = sorted(float(v) for v in range(1, 1001))

    estimate, lower, upper = quantile_bounds(values, 0.95, 0.05, prior_for(P95, CONFIDENCE))

    assert estimate == 950.0
    assert lower in values
    assert upper in values
    assert 900 < lower < 950 < upper < 1000


@pytest.mark.parametrize("seed", range(20))
def test_the_percentile_bounds_agree_with_the_verdict(seed: int) -> None:
    """PASS exactly when the upper bound is within the limit, FAIL when the lower is over it."""
    rng = np.random.default_rng(seed)
    latencies = rng.exponential(rng.uniform(80, 250), size=int(rng.integers(20, 800)))

    reading = read([sample(float(v)) for v in latencies], P95, CONFIDENCE)

    assert reading.judgement is judge_at_most_bounds(reading.lower, reading.upper, 500.0)
    assert reading.lower <= reading.estimate <= reading.upper


def judge_at_most_bounds(lower: float, upper: float, limit: float) -> Judgement:
    if upper <= limit:
        return Judgement.PASS
    if lower > limit:
        return Judgement.FAIL
    return Judgement.INCONCLUSIVE


def exponential_scale_for(share_over: float, limit: float = 500.0) -> float:
    """The mean of an exponential latency with exactly `share_over` of answers over `limit`."""
    return limit / -math.log(share_over)


def test_a_p95_just_over_its_objective_passes_wrongly_in_under_alpha_of_runs() -> None:
    """True p95 over 500 ms (5.1 % of answers slower): every 10 samples, up to 1,000, the
    Decider looks; a PASS at any look is wrong. Seeded, 300 runs (about 2 % wrong)."""
    rng = np.random.default_rng(16)
    scale = exponential_scale_for(JUST_OVER)
    wrong = 0
    for _ in range(REPETITIONS):
        decider = Decider([P95], CONFIDENCE)
        latencies = rng.exponential(scale, size=LOOK_EVERY * LOOKS)
        for look in range(LOOKS):
            batch = latencies[look * LOOK_EVERY : (look + 1) * LOOK_EVERY]
            decider.add(sample(float(v)) for v in batch)
            if decider.decided():
                wrong += decider.judgements() == [Judgement.PASS]
                break

    assert wrong / REPETITIONS < 1 - CONFIDENCE


def test_the_fixed_n_interval_read_at_every_look_passes_it_wrongly_far_more_often() -> None:
    """The same data judged by the order-statistic interval of a fixed sample (the gate's own
    ranks), recomputed at every look and stopped at the first verdict: the path the stopping
    rule replaces (about 9 % wrong)."""
    rng = np.random.default_rng(16)
    scale = exponential_scale_for(JUST_OVER)
    sizes = [look * LOOK_EVERY for look in range(1, LOOKS + 1)]
    ranks = {n: order_ranks(n, 0.95, CONFIDENCE) for n in sizes}
    wrong = 0
    for _ in range(REPETITIONS):
        latencies = rng.exponential(scale, size=LOOK_EVERY * LOOKS)
        for n in sizes:
            found = ranks[n]
            if found is None:
                continue
            ordered = np.sort(latencies[:n])
            judgement = judge_at_most_bounds(ordered[found[0] - 1], ordered[found[1] - 1], 500.0)
            if judgement is not Judgement.INCONCLUSIVE:
                wrong += judgement is Judgement.PASS
                break

    assert wrong / REPETITIONS > 1 - CONFIDENCE


def test_a_clear_failure_stops_the_decider_within_a_few_samples() -> None:
    """900 ms answers against a 500 ms p95, with an availability objective that would need
    hundreds of samples: the failure alone decides."""
    decider = Decider([P95, AVAILABILITY], CONFIDENCE)
    seen = 0
    while not decider.decided():
        decider.add([sample(900.0)])
        seen += 1

    assert seen <= 10
    assert decider.judgements() == [Judgement.FAIL, Judgement.INCONCLUSIVE]


def test_a_healthy_run_is_decided_when_every_objective_is() -> None:
    decider = Decider([P50, P95, ERRORS], CONFIDENCE)
    seen = 0
    while not decider.decided():
        decider.add([sample(20.0)] * 10)
        seen += 10

    assert decider.judgements() == [Judgement.PASS] * 3
    assert (
        seen
        == math.ceil(max(flawless_samples_needed(o, CONFIDENCE) or 0 for o in (P95, ERRORS)) / 10)
        * 10
    )


def test_no_objective_never_decides() -> None:
    decider = Decider([], CONFIDENCE)
    decider.add([sample()] * 100)

    assert not decider.decided()
