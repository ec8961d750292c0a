"""The anytime-valid confidence sequence for shares (slo/sequential.py): exactly a mixture of
likelihood ratios (mean 1 under the truth), covering the true share across every look with
probability 1 - alpha (simulated, seeded), where a fixed-n Wilson interval recomputed at every
look does not; and deciding clear cases early."""

from __future__ import annotations

import math

import numpy as np
import pytest

from releasegate.outcome import Judgement
from releasegate.slo.sequential import (
    MixturePrior,
    judge_share_at_most,
    log_mixture,
    share_bounds,
)
from releasegate.slo.statistics import wilson_interval

ALPHA = 0.05
BATCH, LOOKS, REPETITIONS = 50, 40, 500


@pytest.mark.parametrize("share", [0.01, 0.2, 0.5])
@pytest.mark.parametrize("n", [1, 7, 30])
def test_the_mixture_has_mean_one_when_the_share_is_true(share: float, n: int) -> None:
    """Summed over every outcome of n samples, E[M_n(p)] = 1 under share p: a martingale's
    mean, which is what makes Ville's inequality apply."""
    prior = MixturePrior.for_limit(0.01)

    mean = sum(
        math.comb(n, k)
        * share**k
        * (1 - share) ** (n - k)
        * math.exp(log_mixture(k, n, share, prior))
        for k in range(n + 1)
    )

    assert mean == pytest.approx(1.0, rel=1e-9)


def _looks(share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Events and sample counts at each look of REPETITIONS seeded runs of Bernoulli(share)."""
    rng = np.random.default_rng(seed)
    events = np.cumsum(rng.random((REPETITIONS, BATCH * LOOKS)) < share, axis=1)
    counts = np.arange(BATCH, BATCH * LOOKS + 1, BATCH)
    return events[:, counts - 1], counts


def _ever(decided: list[list[bool]]) -> float:
    return float(np.mean([any(run) for run in decided]))


def test_a_share_at_the_limit_is_decided_wrongly_in_under_alpha_of_runs_across_40_looks() -> None:
    """True share exactly at the 1 % limit: any PASS or FAIL is wrong; over 40 looks of 50
    samples, the sequence says one in under alpha of the runs."""
    limit = 0.01
    prior = MixturePrior.for_limit(limit)
    events, counts = _looks(limit, seed=1)

    decided = [
        [
            judge_share_at_most(int(s), int(n), limit, ALPHA, prior) is not Judgement.INCONCLUSIVE
            for s, n in zip(run, counts, strict=True)
        ]
        for run in events
    ]

    assert _ever(decided) <= ALPHA


def test_a_fixed_n_interval_recomputed_at_every_look_is_wrong_far_more_often() -> None:
    """The fixed-n path this replaces: a Wilson interval read after every batch excludes the
    true share in more than alpha of the runs (peeking inflates the error)."""
    limit = 0.01
    events, counts = _looks(limit, seed=1)

    excluded = []
    for run in events:
        intervals = [
            wilson_interval(int(s), int(n), 1 - ALPHA) for s, n in zip(run, counts, strict=True)
        ]
        excluded.append([i is not None and not i.lower <= limit <= i.upper for i in intervals])

    assert _ever(excluded) > 2 * ALPHA


@pytest.mark.parametrize(
    ("share", "wrong"),
    [(0.012, Judgement.PASS), (0.008, Judgement.FAIL)],
    ids=["just-over-says-pass", "just-under-says-fail"],
)
def test_stopping_at_the_first_verdict_is_wrong_in_under_alpha_of_runs(
    share: float, wrong: Judgement
) -> None:
    """Sampling stops at the first verdict; near the limit, the wrong one comes in under
    alpha of the runs."""
    limit = 0.01
    prior = MixturePrior.for_limit(limit)
    events, counts = _looks(share, seed=2)

    firsts = []
    for run in events:
        verdicts = (
            judge_share_at_most(int(s), int(n), limit, ALPHA, prior)
            for s, n in zip(run, counts, strict=True)
        )
        firsts.append(next((v for v in verdicts if v is not Judgement.INCONCLUSIVE), None))

    assert firsts.count(wrong) / REPETITIONS <= ALPHA


def test_a_clear_failure_is_decided_after_a_few_batches() -> None:
    """10 % errors against a 1 % limit: FAIL by 300 samples (6 batches of a 2,000 budget) in
    every run (at 100, a run with fewer than 7 events, about one in nine, is not yet decided)."""
    limit = 0.01
    events, counts = _looks(0.10, seed=3)

    verdicts = [judge_share_at_most(int(run[5]), int(counts[5]), limit, ALPHA) for run in events]

    assert set(verdicts) == {Judgement.FAIL}


def test_no_events_pass_a_1_percent_limit_only_once_the_samples_can_show_it() -> None:
    """Error-free samples show a 1 % limit from 500 (a fixed-n Wilson bound needs 381, but may
    be read only once)."""
    limit = 0.01

    assert judge_share_at_most(0, 300, limit, ALPHA) is Judgement.INCONCLUSIVE
    assert judge_share_at_most(0, 500, limit, ALPHA) is Judgement.PASS


def test_the_bounds_hold_the_estimate_and_agree_with_the_verdict() -> None:
    limit = 0.01
    prior = MixturePrior.for_limit(limit)

    for events, n in [(0, 500), (3, 500), (18, 2000), (40, 2000), (200, 1000)]:
        lower, upper = share_bounds(events, n, ALPHA, prior)
        verdict = judge_share_at_most(events, n, limit, ALPHA, prior)
        assert lower <= events / n <= upper
        assert (verdict is Judgement.PASS) == (upper < limit)
        assert (verdict is Judgement.FAIL) == (lower > limit)
