"""Anytime-valid confidence sequences for the SLO gate's ratios: a verdict may be read after
every batch of samples, as often as wanted, without the error rate growing with the looks.

Every objective is a ratio against a limit. An error ratio, a 429 share and a missed
availability are shares of events. A latency percentile is one too: `p99 <= 500 ms` holds
exactly when the share of answers slower than 500 ms is at most 1 % (the quantile is the
smallest x with F(x) >= 0.99), so it is judged on the indicator `latency > limit`.

For a share `p`, the beta-binomial mixture of likelihood ratios

    M_t(p) = B(a + S, b + t - S) / B(a, b) / (p^S (1 - p)^(t - S))

(S events in t samples, B the beta function) is a nonnegative martingale with mean 1 when the
true share is `p`; by Ville's inequality it ever reaches 1/alpha with probability at most
alpha. The confidence sequence {p : M_t(p) < 1/alpha} therefore covers the true share at every
t at once with probability at least 1 - alpha (Howard, Ramdas, McAuliffe and Sekhon,
"Time-uniform, nonparametric, nonasymptotic confidence sequences", 2021). It is an interval
around S/t: M_t falls up to S/t and rises after it, so the sequence lies wholly under a limit
exactly when S/t is under it and M_t(limit) >= 1/alpha.

The prior Beta(a, b) only shapes where the sequence is tightest: it is tuned, as in that paper,
for the limit and a planned sample count (`t_opt`), which changes the width, never the validity.
Pure Python (math.lgamma): O(1) per look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from releasegate.outcome import Judgement

# the planned sample count the prior is tuned for, and the level of that tuning
T_OPT = 1000
ALPHA_OPT = 0.05
_BISECTIONS = 60


@dataclass(frozen=True)
class MixturePrior:
    """Beta(a, b) over the share, centred on a limit (a on events, b on non-events)."""

    a: float
    b: float

    @classmethod
    def for_limit(
        cls, limit: float, t_opt: int = T_OPT, alpha_opt: float = ALPHA_OPT
    ) -> MixturePrior:
        """The prior that makes the sequence tightest near `t_opt` samples at `limit`."""
        if not 0.0 < limit < 1.0:
            raise ValueError(f"a share's limit is between 0 and 1 (exclusive), not {limit}")
        spread = limit * (1.0 - limit)
        log_odds = math.log(1.0 / alpha_opt)
        rho = spread * t_opt / (2.0 * log_odds + math.log(1.0 + 2.0 * log_odds))
        r = max(rho - spread, 1e-3 * spread)
        return cls(a=r / (1.0 - limit), b=r / limit)


def _log_beta(x: float, y: float) -> float:
    return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)


def log_mixture(events: int, n: int, share: float, prior: MixturePrior) -> float:
    """ln M_n(share): the evidence, after n samples with `events` events, against the true
    share being `share`."""
    if not 0 <= events <= n:
        raise ValueError(f"events ({events}) must be between 0 and the sample count ({n})")
    if not 0.0 < share < 1.0:
        raise ValueError(f"a share is between 0 and 1 (exclusive), not {share}")
    return (
        _log_beta(prior.a + events, prior.b + n - events)
        - _log_beta(prior.a, prior.b)
        - events * math.log(share)
        - (n - events) * math.log1p(-share)
    )


def judge_share_at_most(
    events: int, n: int, limit: float, alpha: float, prior: MixturePrior | None = None
) -> Judgement:
    """PASS when the confidence sequence lies wholly under `limit`, FAIL when wholly over it,
    else INCONCLUSIVE (sample on, or HOLD when the budget is spent). Valid at any look."""
    if n == 0:
        return Judgement.INCONCLUSIVE
    prior = prior or MixturePrior.for_limit(limit)
    if log_mixture(events, n, limit, prior) < math.log(1.0 / alpha):
        return Judgement.INCONCLUSIVE
    return Judgement.PASS if events / n < limit else Judgement.FAIL


def share_bounds(events: int, n: int, alpha: float, prior: MixturePrior) -> tuple[float, float]:
    """The confidence sequence at n: the shares not yet excluded, as (lower, upper)."""
    if n == 0:
        return 0.0, 1.0
    threshold = math.log(1.0 / alpha)
    estimate = events / n

    def excluded(share: float) -> bool:
        return log_mixture(events, n, share, prior) >= threshold

    def edge(inside: float, outside: float) -> float:
        # the boundary between a share inside the sequence and one outside it
        for _ in range(_BISECTIONS):
            middle = (inside + outside) / 2
            inside, outside = (inside, middle) if excluded(middle) else (middle, outside)
        return inside

    tiny = 1e-12
    lower = 0.0 if events == 0 or not excluded(tiny) else edge(max(estimate, tiny), tiny)
    upper = (
        1.0 if events == n or not excluded(1 - tiny) else edge(min(estimate, 1 - tiny), 1 - tiny)
    )
    return lower, upper
