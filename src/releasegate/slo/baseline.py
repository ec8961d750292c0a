"""Where the baseline (latency samples taken before the deploy) is, how one is taken, and
each endpoint's latency now compared with it.

A baseline counts only for the target it was taken of (its recorded URL, normalised) and only
while it is younger than `[slo.baseline] max_age` by the time it records (not its file's
mtime, which a copy or a checkout changes). Any other is no baseline, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from releasegate.config import Environment, SloConfig
from releasegate.errors import EvidenceMissing, SamplesUnreadable
from releasegate.evidence.results import Measurement
from releasegate.outcome import Judged
from releasegate.slo.judge import regression
from releasegate.slo.statistics import Regression, compare_to_baseline
from releasegate.slo.synthetic import (
    BASELINE_FILE,
    SamplePlan,
    SampleSet,
    Target,
    read_samples,
)

# a baseline dated further ahead than this is a clock problem, not a baseline
FUTURE_SKEW_S = 300.0
STALE = "evidence-stale"

# A rollout names the baseline it took before its first stage: its gate runs compare against
# that one, not the newest (a pre-deploy gate in a stage writes a newer one, mid-rollout).
BASELINE_VAR = "RELEASEGATE_BASELINE"


def sample_targets(env: Environment) -> list[Target]:
    """`[slo.synthetic] endpoints`, or every GET of `[[endpoints]]`."""
    configured = env.model.slo.synthetic.endpoints
    if configured:
        return [Target.parse(text) for text in configured]
    return [Target("GET", e.path) for e in env.model.endpoints if e.method == "GET"]


def synthetic_plan(env: Environment) -> SamplePlan:
    """The environment's synthetic sampling: endpoints, count, concurrency, rate, duration."""
    config = env.model.slo.synthetic
    plan = sample_plan(env, config.requests, config.concurrency, config.rate, config.duration)
    return replace(plan, max_concurrency=config.max_concurrency, min_requests=config.min_requests)


# A baseline has no objective to stop at: it takes the budget, at most this many (the SLO
# stage's synthetic samples of a healthy service stop at about 410; a comparison of medians
# has the power it needs well before)
BASELINE_REQUESTS = 400


def baseline_plan(env: Environment) -> SamplePlan:
    """The synthetic sampling of a baseline: as the SLO stage's, at most `BASELINE_REQUESTS`."""
    plan = synthetic_plan(env)
    return replace(plan, requests=min(plan.requests, BASELINE_REQUESTS))


def sample_plan(
    env: Environment, requests: int, concurrency: int, rate: float, duration_s: float
) -> SamplePlan:
    """Sampling the key endpoints within these bounds; EvidenceMissing when there are none."""
    targets = sample_targets(env)
    if not targets:
        raise EvidenceMissing(
            f"no endpoints to sample: set [slo.synthetic] endpoints or add GET [[endpoints]]"
            f" in {env.path}"
        )
    return SamplePlan(
        targets=targets,
        requests=requests,
        concurrency=concurrency,
        rate_per_s=rate,
        duration_s=duration_s,
        timeout_s=env.target.timeout,
        headers=env.target.headers,
    )


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def baseline_problem(
    samples: SampleSet, path: Path, target_url: str, max_age_s: float, now: datetime
) -> str | None:
    """Why this baseline is no baseline for `target_url` now (another target, too old, no
    recorded time, dated in the future), naming the file; None when it counts."""
    if not samples.same_target(target_url):
        return f"baseline {path} was taken of {samples.target_url}, not of this target {target_url}"
    taken = samples.taken_at_time()
    if taken is None:
        return f"baseline {path} records no time it was taken ({samples.taken_at!r})"
    age = (now - taken).total_seconds()
    if age < -FUTURE_SKEW_S:
        return f"baseline {path} is dated {taken.isoformat()}, in the future: check the clocks"
    if age > max_age_s:
        return (
            f"baseline {path} was taken {_span(age)} ago ({taken.isoformat()}), older than"
            f" [slo.baseline] max_age {_span(max_age_s)}"
        )
    return None


@dataclass(frozen=True)
class BaselineChoice:
    """The baseline to compare with (or none), and why the baselines seen were not used."""

    path: Path | None
    samples: SampleSet | None
    rejected: tuple[str, ...] = ()

    def reason(self) -> str:
        """One line: "evidence-stale: ..." for rejected baselines, else that none was found."""
        if not self.rejected:
            return "no baseline taken before the deploy"
        more = f" (and {len(self.rejected) - 1} more)" if len(self.rejected) > 1 else ""
        return f"{STALE}: {self.rejected[0]}{more}"


def choose_baseline(
    env: Environment,
    reports_dir: Path,
    target_url: str,
    *,
    now: datetime | None = None,
    exclude: Path | None = None,
    chosen: str | None = None,
) -> BaselineChoice:
    """The baseline for this run: `chosen` (the rollout's), else `[slo.baseline] file`, else
    the newest baseline.json under `reports_dir` of this environment and target by the time it
    records; each only if it was taken of `target_url` within `[slo.baseline] max_age`. A
    named file that cannot be read raises EvidenceMissing."""
    now = now or datetime.now(UTC)
    max_age = env.model.slo.baseline.max_age
    named = find_baseline(env, reports_dir, exclude=exclude, chosen=chosen)
    if chosen or env.model.slo.baseline.file:
        assert named is not None
        try:
            samples = read_samples(named)
        except SamplesUnreadable as exc:
            raise EvidenceMissing(f"baseline: {exc}") from None
        problem = baseline_problem(samples, named, target_url, max_age, now)
        if problem:
            return BaselineChoice(None, None, (problem,))
        return BaselineChoice(named, samples)
    rejected: list[str] = []
    for _, path, samples in _baselines_of(env, reports_dir, exclude):
        problem = baseline_problem(samples, path, target_url, max_age, now)
        if problem is None:
            return BaselineChoice(path, samples, tuple(rejected))
        rejected.append(problem)
    return BaselineChoice(None, None, tuple(rejected))


def _baselines_of(
    env: Environment, reports_dir: Path, exclude: Path | None
) -> list[tuple[datetime, Path, SampleSet]]:
    """This environment's readable baselines under `reports_dir`, the newest (by the time they
    record; unrecorded ones last) first."""
    if not reports_dir.is_dir():
        return []
    found: list[tuple[datetime, Path, SampleSet]] = []
    oldest = datetime.min.replace(tzinfo=UTC)
    for path in reports_dir.rglob(BASELINE_FILE):
        if exclude is not None and exclude in path.parents:
            continue
        try:
            samples = read_samples(path)
        except SamplesUnreadable:
            continue
        if samples.environment == env.name:
            found.append((samples.taken_at_time() or oldest, path, samples))
    return sorted(found, key=lambda item: (item[0], str(item[1])), reverse=True)


def find_baseline(
    env: Environment,
    reports_dir: Path,
    exclude: Path | None = None,
    chosen: str | None = None,
) -> Path | None:
    """`chosen` (the rollout's, from $RELEASEGATE_BASELINE) if given, else `[slo.baseline]
    file` if set (relative to the environment file's folder's parent, the repository), else the
    newest baseline.json under `reports_dir` taken for this environment, by the time it
    records. Neither target nor age is checked here: `choose_baseline` does."""
    if chosen:
        return Path(chosen)
    configured = env.model.slo.baseline.file
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else env.path.resolve().parent.parent / path
    found = _baselines_of(env, reports_dir, exclude)
    return found[0][1] if found else None


@dataclass(frozen=True)
class EndpointShift:
    """One endpoint's latency now against the baseline: the comparison (None with too few
    samples) and its judgement."""

    endpoint: str
    result: Regression | None
    judged: Judged

    def measurements(self, min_increase: float) -> list[Measurement]:
        """The median and p95 ratios and the shift with its interval (none without a
        comparison); the report site charts the median ratio against 1 + `min_increase`."""
        r, name = self.result, self.endpoint
        if r is None:
            return []
        return [
            Measurement(
                name=f"{name} median vs baseline",
                value=round(r.median_ratio, 3),
                unit="x",
                threshold=round(1 + min_increase, 3),
                comparison="<=",
                samples=r.current_samples,
                source="baseline",
            ),
            Measurement(name=f"{name} p95 vs baseline", value=round(r.p95_ratio, 3), unit="x"),
            Measurement(
                name=f"{name} shift vs baseline",
                value=round(r.shift_ms, 3),
                unit="ms",
                threshold=round(r.threshold_ms, 3),
                comparison="<=",
                samples=r.current_samples,
                source="baseline",
            ),
            Measurement(
                name=f"{name} shift interval low", value=round(r.shift_lower_ms, 3), unit="ms"
            ),
            Measurement(
                name=f"{name} shift interval high", value=round(r.shift_upper_ms, 3), unit="ms"
            ),
        ]


def compare_endpoints(
    current: SampleSet, baseline: SampleSet, slo: SloConfig, where: str
) -> list[EndpointShift]:
    """Each sampled endpoint now against the baseline (requests without an answer counted as
    the timeout on both sides), judged against the minimum increase that matters."""
    config = slo.baseline
    shifts = []
    for endpoint in current.endpoints():
        before, now = baseline.censored_latencies(endpoint), current.censored_latencies(endpoint)
        result = compare_to_baseline(
            before.values(),
            now.values(),
            alpha=config.alpha,
            min_increase=config.min_increase,
            min_increase_ms=slo.regression_floor_ms(),
            censored_baseline=before.censored,
            censored_current=now.censored,
        )
        judged = regression(result, endpoint, config.min_increase, config.alpha, where)
        shifts.append(EndpointShift(endpoint, result, judged))
    return shifts
