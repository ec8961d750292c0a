"""The SLO gate's stopping rule: after every batch of synthetic samples, each objective is read
from its anytime-valid confidence sequence (`releasegate.slo.sequential`), and sampling stops as
soon as every objective is decided, or one has failed (the verdict is ROLLBACK whatever the
others would show).

Every objective is judged as a share of samples on its wrong side against a limit:

| objective             | a sample counts when                          | share at most   |
|-----------------------|-----------------------------------------------|-----------------|
| pXX latency <= L ms   | it took longer than L, or got no answer       | 1 - XX %        |
| error ratio <= r      | a 5xx, or no answer                           | r               |
| availability >= a     | a 5xx, or no answer                           | 1 - a           |
| rate-limited <= r     | a 429                                         | r               |

(`pXX <= L` holds exactly when at most 1 - XX % of answers are slower than L.) A request without
an answer never counts as fast: a target that stops answering cannot pass on the ones it did.

The reported interval of a percentile is the same sequence read as order statistics: the
latencies x for which the share of samples above x is still inside the sequence at 1 - XX %.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from releasegate.outcome import Judgement
from releasegate.probe import Sample
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sequential import (
    MixturePrior,
    judge_share_at_most,
    log_mixture,
    share_bounds,
)
from releasegate.slo.statistics import Latencies, samples_to_show_ratio_below

# the prior is tuned for the samples a flawless service needs (at least this many)
_T_OPT_MIN = 20
_T_OPT_MAX = 100_000


@dataclass(frozen=True)
class Reading:
    """One objective after `samples` samples, `events` of them on its wrong side: what the
    confidence sequence allows (pass, fail, not yet), the estimate and the sequence's bounds in
    the objective's unit (ms, or a ratio)."""

    objective: Objective
    judgement: Judgement
    estimate: float
    lower: float
    upper: float
    samples: int
    events: int


def share_limit(objective: Objective) -> float:
    """The most a share of wrong-side samples may be (the table above)."""
    if objective.quantile is not None:
        return 1.0 - objective.quantile
    if objective.indicator is Indicator.AVAILABILITY:
        return 1.0 - objective.limit
    return objective.limit


def counts_against(objective: Objective) -> Callable[[Sample], bool]:
    """Whether a sample is on the objective's wrong side."""
    if objective.quantile is not None:
        limit = objective.limit
        return lambda s: s.status is None or s.latency_ms > limit
    if objective.indicator is Indicator.RATE_LIMITED:
        return lambda s: s.rate_limited
    return lambda s: s.server_error


def prior_for(objective: Objective, confidence: float) -> MixturePrior:
    """The mixture tuned where the objective is decided: at its limit, for the samples a
    flawless service would need there (a limit of 0 or 1 gets the nearest usable one)."""
    limit = min(max(share_limit(objective), 1e-4), 1 - 1e-4)
    planned = samples_to_show_ratio_below(limit, confidence)
    return MixturePrior.for_limit(limit, t_opt=min(max(planned, _T_OPT_MIN), _T_OPT_MAX))


def judge_events(events: int, n: int, objective: Objective, confidence: float) -> Judgement:
    """The objective's judgement after n samples, `events` on its wrong side."""
    limit = share_limit(objective)
    if limit >= 1.0:  # nothing can exceed it
        return Judgement.PASS if n else Judgement.INCONCLUSIVE
    if limit <= 0.0:  # one event fails it; no number of clean samples shows a share of 0
        return Judgement.FAIL if events else Judgement.INCONCLUSIVE
    return judge_share_at_most(events, n, limit, 1 - confidence, prior_for(objective, confidence))


def samples_to_pass(objective: Objective, confidence: float, events: int = 0) -> int | None:
    """How many samples, `events` of them on the wrong side, the sequence needs to pass the
    objective (None when no number does: a limit of 0)."""
    if share_limit(objective) <= 0.0:
        return None

    def passes(n: int) -> bool:
        return judge_events(events, n, objective, confidence) is Judgement.PASS

    low, high = events, max(events, 1)
    while not passes(high):
        low, high = high, high * 2
        if high > 100 * _T_OPT_MAX:
            return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if passes(middle) else (middle, high)
    return high


def flawless_samples_needed(objective: Objective, confidence: float) -> int | None:
    """How many samples, none on the wrong side, the sequence needs to pass the objective."""
    return samples_to_pass(objective, confidence)


def read(
    samples: Sequence[Sample], objective: Objective, confidence: float, censor_at: float = 0.0
) -> Reading:
    """The objective's reading from every sample so far; a latency without an answer stands at
    `censor_at` (the timeout, in ms) or above every answered one, whichever is larger."""
    against = counts_against(objective)
    events = sum(1 for s in samples if against(s))
    n = len(samples)
    judgement = judge_events(events, n, objective, confidence)
    prior = prior_for(objective, confidence)
    alpha = 1 - confidence
    if objective.quantile is not None:
        answered = tuple(s.latency_ms for s in samples if s.status is not None)
        values = Latencies(answered, n - len(answered), censor_at).values()
        estimate, lower, upper = quantile_bounds(values, objective.quantile, alpha, prior)
        return Reading(objective, judgement, estimate, lower, upper, n, events)
    low, high = share_bounds(events, n, alpha, prior)
    share = events / n if n else math.nan
    if objective.indicator is Indicator.AVAILABILITY:
        return Reading(objective, judgement, 1 - share, 1 - high, 1 - low, n, events)
    return Reading(objective, judgement, share, low, high, n, events)


def quantile_bounds(
    ordered: Sequence[float], q: float, alpha: float, prior: MixturePrior
) -> tuple[float, float, float]:
    """The q-quantile of sorted values by nearest rank, and the confidence
    sequence's bounds on it: order statistics, 0 below the smallest, inf above the largest
    (no sample bounds it yet)."""
    n = len(ordered)
    if n == 0:
        return math.nan, 0.0, math.inf
    estimate = ordered[min(n - 1, max(0, math.ceil(q * n) - 1))]
    share = 1.0 - q
    threshold = math.log(1.0 / alpha)

    def inside(k: int) -> bool:  # k samples above x: is a quantile at x still possible?
        return log_mixture(k, n, share, prior) < threshold

    centre = min(n, max(0, round(n * share)))
    if not inside(centre):  # too few samples for the sequence to hold any quantile yet
        return estimate, 0.0, math.inf
    k_low = _edge(centre, 0, inside)
    k_high = _edge(centre, n, inside)
    upper = ordered[n - k_low] if k_low >= 1 else math.inf
    lower = ordered[n - k_high - 1] if n - k_high >= 1 else 0.0
    return estimate, lower, upper


def _edge(inside_k: int, limit_k: int, inside: Callable[[int], bool]) -> int:
    """The last k from `inside_k` towards `limit_k` still inside (log-mixture is convex in k,
    so the k inside form one run)."""
    if inside(limit_k):
        return limit_k
    outside_k = limit_k
    while abs(outside_k - inside_k) > 1:
        middle = (inside_k + outside_k) // 2
        inside_k, outside_k = (middle, outside_k) if inside(middle) else (inside_k, middle)
    return inside_k


class Decider:
    """Counts, batch by batch, each objective's wrong-side samples, so a look costs one
    mixture per objective, however many samples there are."""

    def __init__(self, objectives: Sequence[Objective], confidence: float) -> None:
        self.objectives = list(objectives)
        self.confidence = confidence
        self._against = [counts_against(o) for o in self.objectives]
        self._events = [0] * len(self.objectives)
        self.samples = 0

    def add(self, batch: Iterable[Sample]) -> None:
        for sample in batch:
            self.samples += 1
            for i, against in enumerate(self._against):
                if against(sample):
                    self._events[i] += 1

    def judgements(self) -> list[Judgement]:
        return [
            judge_events(events, self.samples, objective, self.confidence)
            for objective, events in zip(self.objectives, self._events, strict=True)
        ]

    def decided(self) -> bool:
        """Every objective passed or failed, or one failed; False with no objective (nothing
        to decide: sampling runs its budget)."""
        judgements = self.judgements()
        if not judgements:
            return False
        if Judgement.FAIL in judgements:
            return True
        return Judgement.INCONCLUSIVE not in judgements
