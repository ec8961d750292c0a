"""The SLO gate's one judge: an SLI against its objective is passed, failed or inconclusive,
with a message naming value, interval, limit, samples and where, and the interval kept as
`measured`; several endpoints' judgements become one check; burn rates by both windows."""

from __future__ import annotations

import pytest

from releasegate.outcome import Judged, Judgement
from releasegate.slo.judge import all_of, burn, judge
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import BurnRates, Origin, Unmeasured, percentile, ratio
from releasegate.slo.statistics import Interval

ORIGIN = Origin("synthetic", "synthetic, env=prod", "4.5s")
P95 = Objective(Indicator.LATENCY, 500, 0.95)


def test_a_percentile_names_value_interval_limit_samples_and_where() -> None:
    sli = percentile([600.0 + i for i in range(100)], 0.95, 0.95, ORIGIN)

    judged = judge(sli, P95)

    assert judged.judgement is Judgement.FAIL
    assert judged.message.startswith("p95 latency 694.0 ms (95% interval")
    assert judged.message.endswith("100 samples) exceeds 500 ms (synthetic, env=prod)")
    assert isinstance(judged.measured, Interval)
    assert (judged.limit, judged.samples, judged.where) == (500, 100, "synthetic, env=prod")


def test_an_unmeasured_sli_is_inconclusive_with_its_reason() -> None:
    judged = judge(Unmeasured(ORIGIN, "no samples"), P95)

    assert judged.judgement is Judgement.INCONCLUSIVE
    assert judged.message == "p95 latency: no samples (synthetic, env=prod)"


@pytest.mark.parametrize(
    ("objective", "events", "total", "expected", "says"),
    [
        pytest.param(
            Objective(Indicator.ERROR_RATIO, 0.01),
            0,
            400,
            Judgement.PASS,
            "within 1.000%",
            id="400 error-free: under 1 %",
        ),
        pytest.param(
            Objective(Indicator.ERROR_RATIO, 0.01),
            20,
            400,
            Judgement.FAIL,
            "exceeds 1.000% (20 of 400)",
            id="5 % errors",
        ),
        pytest.param(
            Objective(Indicator.ERROR_RATIO, 0.01),
            0,
            100,
            Judgement.INCONCLUSIVE,
            "cannot be told apart from 1.000%; 381 event-free samples would show it",
            id="100 error-free: too few",
        ),
        pytest.param(
            Objective(Indicator.RATE_LIMITED, 0.01),
            3,
            300,
            Judgement.INCONCLUSIVE,
            "rate-limited ratio 1.000% (95% interval",
            id="on the limit: take more samples",
        ),
        pytest.param(
            Objective(Indicator.AVAILABILITY, 0.99),
            400,
            400,
            Judgement.PASS,
            "availability 100.000% (95% interval 99.",
            id="400 good: meets 99 %",
        ),
        pytest.param(
            Objective(Indicator.AVAILABILITY, 0.99),
            380,
            400,
            Judgement.FAIL,
            "is below 99.000%",
            id="95 % good",
        ),
        pytest.param(
            Objective(Indicator.AVAILABILITY, 0.99),
            100,
            100,
            Judgement.INCONCLUSIVE,
            "381 good samples in a row would show it",
            id="100 good: too few",
        ),
    ],
)
def test_a_ratio_is_judged_by_its_wilson_interval(
    objective: Objective, events: int, total: int, expected: Judgement, says: str
) -> None:
    sli = ratio(events, total, 0.95, ORIGIN)

    judged = judge(sli, objective)

    assert judged.judgement is expected
    assert says in judged.message
    assert judged.message.endswith("(synthetic, env=prod)")
    assert judged.samples == total


def test_a_ratio_on_the_limit_says_to_take_more_samples() -> None:
    judged = judge(ratio(3, 300, 0.95, ORIGIN), Objective(Indicator.RATE_LIMITED, 0.01))

    assert "; take more samples (synthetic, env=prod)" in judged.message


@pytest.mark.parametrize(
    ("judgements", "expected", "message"),
    [
        pytest.param(["pass a", "fail b", "inconclusive c", "fail d"], Judgement.FAIL, "b; d"),
        pytest.param(["pass a", "inconclusive c"], Judgement.INCONCLUSIVE, "c"),
        pytest.param(["pass a", "pass b"], Judgement.PASS, "a; b"),
        pytest.param([], Judgement.INCONCLUSIVE, "nothing compared", id="none is no pass"),
    ],
)
def test_several_judgements_are_one_check(
    judgements: list[str], expected: Judgement, message: str
) -> None:
    judged = [Judged(Judgement(j.split()[0]), j.split()[1]) for j in judgements]

    combined = all_of(judged, "nothing compared")

    assert combined.judgement is expected
    assert combined.message == message


@pytest.mark.parametrize(
    ("long", "short", "expected"),
    [
        pytest.param(8.0, 8.0, Judgement.FAIL, id="both above"),
        pytest.param(8.0, 1.0, Judgement.PASS, id="a past incident: the short window is calm"),
        pytest.param(1.0, 8.0, Judgement.PASS, id="a blip: the long window is calm"),
    ],
)
def test_the_budget_burns_only_when_both_windows_do(
    long: float, short: float, expected: Judgement
) -> None:
    rates = BurnRates(
        Origin("prometheus", "Prometheus, env=prod"), "1h", "5m", long, short, 3, 0.99
    )

    judged = burn(rates)

    assert judged.judgement is expected
    assert f"error budget burning at {long:.1f}x over 1h and {short:.1f}x over 5m" in judged.message
    assert judged.message.endswith("3x for a 99.000% objective (Prometheus, env=prod)")
