"""Planning the synthetic samples from the objectives, before a run: per objective, how many
samples the stopping rule (`releasegate.slo.stopping`) needs to show it on a flawless service
and on one exactly as the last run measured it, and whether `[slo.synthetic]` can send them
(`requests`, and `rate` x `duration`). `releasegate envs check` and `policy explain` print it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.config import Environment, SloConfig
from releasegate.errors import SamplesUnreadable
from releasegate.outcome import Judgement
from releasegate.slo.objectives import Indicator, Objective, objectives
from releasegate.slo.stopping import counts_against, judge_events, samples_to_pass, share_limit
from releasegate.slo.synthetic import SAMPLES_FILE, SampleSet, read_samples

# no plan looks further than this many samples (a share at its limit never passes)
_HORIZON = 1_000_000


@dataclass(frozen=True)
class ObjectivePlan:
    """One objective's sample needs: flawless (None: no number shows it, a limit of 0) and at
    the observed share of wrong-side samples (None when there is no observation, or when at
    that share it is never shown)."""

    objective: Objective
    flawless: int | None
    observed_share: float | None = None
    at_observed: int | None = None


def samples_at_share(objective: Objective, confidence: float, share: float) -> int | None:
    """Samples the sequence needs to pass the objective on a service with exactly `share` of
    its samples on the wrong side; None when it never would (the share is at or over the
    limit)."""
    if share <= 0.0:
        return samples_to_pass(objective, confidence)
    if share >= share_limit(objective):
        return None

    def passes(n: int) -> bool:
        return judge_events(math.floor(share * n), n, objective, confidence) is Judgement.PASS

    n = 1
    while not passes(n):
        n *= 2
        if n > _HORIZON:
            return None
    low, high = n // 2, n
    while high - low > 1:  # the count of events steps with n: near enough for a plan
        middle = (low + high) // 2
        low, high = (low, middle) if passes(middle) else (middle, high)
    return high


def observed_shares(samples: SampleSet, slo: SloConfig) -> dict[Objective, float]:
    """Each objective's share of wrong-side samples in a run's synthetic samples."""
    found: dict[Objective, float] = {}
    if not samples.samples:
        return found
    for objective in objectives(slo):
        against = counts_against(objective)
        events = sum(1 for s in samples.samples if against(s))
        found[objective] = events / len(samples.samples)
    return found


def plan(slo: SloConfig, observed: Mapping[Objective, float] | None = None) -> list[ObjectivePlan]:
    """Every objective's sample needs, at `slo.confidence`."""
    plans = []
    for objective in objectives(slo):
        share = (observed or {}).get(objective)
        plans.append(
            ObjectivePlan(
                objective,
                samples_to_pass(objective, slo.confidence),
                share,
                None if share is None else samples_at_share(objective, slo.confidence, share),
            )
        )
    return plans


def sendable(slo: SloConfig) -> int:
    """The most samples `[slo.synthetic]` can send: `requests`, or `rate` x `duration`."""
    synthetic = slo.synthetic
    return min(synthetic.requests, math.floor(synthetic.rate * synthetic.duration))


def _what(objective: Objective) -> str:
    if objective.quantile is not None:
        return f"{objective.name} <= {objective.limit:g} ms"
    sign = ">=" if objective.comparison == ">=" else "<="
    return f"{objective.name} {sign} {objective.limit:.2%}"


_EVENTS = {
    Indicator.ERROR_RATIO: "errors",
    Indicator.AVAILABILITY: "failed requests",
    Indicator.RATE_LIMITED: "429s",
}


def _share(objective: Objective, share: float) -> str:
    if objective.quantile is not None:
        return f"{share:.1%} of answers slower than {objective.limit:g} ms"
    return f"{share:.2%} {_EVENTS.get(objective.indicator, 'on the wrong side')}"


def plan_lines(plans: Sequence[ObjectivePlan], slo: SloConfig, observed_in: str = "") -> list[str]:
    """The plan in words, one objective a line."""
    lines = []
    for p in plans:
        flawless = "no number of samples shows it" if p.flawless is None else f"{p.flawless}"
        line = f"{_what(p.objective)}: {flawless} samples on a flawless service"
        if p.observed_share is not None:
            at = "never shown" if p.at_observed is None else f"{p.at_observed} samples"
            line += f"; {at} at {_share(p.objective, p.observed_share)} ({observed_in})"
        lines.append(line)
    synthetic = slo.synthetic
    lines.append(
        f"budget: {synthetic.requests} requests, {synthetic.rate:g}/s for"
        f" {synthetic.duration:g} s: at most {sendable(slo)} samples"
    )
    return lines


def budget_warnings(plans: Sequence[ObjectivePlan], slo: SloConfig, label: str) -> list[str]:
    """Objectives the budget cannot show: flawless, or at the observed share."""
    warnings = []
    budget = sendable(slo)
    synthetic = slo.synthetic
    limit = (
        f"[slo.synthetic] requests = {synthetic.requests}"
        if synthetic.requests <= synthetic.rate * synthetic.duration
        else f"[slo.synthetic] rate = {synthetic.rate:g} for duration = {synthetic.duration:g}s"
    )
    for p in plans:
        if p.flawless is not None and p.flawless > budget:
            warnings.append(
                f"{label}: {limit} allows {budget} samples; {_what(p.objective)} needs"
                f" {p.flawless} even on a flawless service: HOLD every run"
            )
        elif p.observed_share is not None and (p.at_observed or math.inf) > budget:
            needed = "cannot be shown" if p.at_observed is None else f"needs {p.at_observed}"
            warnings.append(
                f"{label}: at the last run's {_share(p.objective, p.observed_share)},"
                f" {_what(p.objective)} {needed} samples; {limit} allows {budget}"
            )
    return warnings


def latest_samples(reports_dir: Path, environment: str) -> tuple[Path, SampleSet] | None:
    """The newest run's synthetic samples of `environment` under `reports_dir` (by the time
    they record), or None."""
    newest: tuple[str, Path, SampleSet] | None = None
    if not reports_dir.is_dir():
        return None
    for found in reports_dir.glob(f"*/{SAMPLES_FILE}"):
        path = found.resolve()  # `latest` names a run too
        try:
            samples = read_samples(path)
        except SamplesUnreadable:
            continue
        if samples.environment != environment:
            continue
        if newest is None or samples.taken_at > newest[0]:
            newest = (samples.taken_at, path, samples)
    return None if newest is None else (newest[1], newest[2])


def review(env: Environment, reports_dir: Path) -> tuple[list[str], list[str]]:
    """The plan of an environment's synthetic samples (lines) and what its budget cannot show
    (warnings), using its newest run's samples under `reports_dir` when there are some; nothing
    when it sets no objective or samples nothing."""
    slo = env.model.slo
    if not slo.synthetic.enabled or not objectives(slo):
        return [], []
    observed: dict[Objective, float] = {}
    where = ""
    found = latest_samples(reports_dir, env.name)
    if found is not None:
        path, samples = found
        observed = observed_shares(samples, slo)
        where = f"{path.parent.name}, {len(samples.samples)} samples"
    plans = plan(slo, observed)
    label = f"environments/{env.path.name}"
    return plan_lines(plans, slo, where), budget_warnings(plans, slo, label)
