"""Where the baseline (latency samples taken before the deploy) is, and how one is taken."""

from __future__ import annotations

from pathlib import Path

from releasegate.config import Environment
from releasegate.errors import EvidenceMissing
from releasegate.sampler import BASELINE_FILE, SamplePlan, SamplesUnreadable, Target, read_samples

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
    return sample_plan(env, config.requests, config.concurrency, config.rate, config.duration)


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


def find_baseline(
    env: Environment,
    reports_dir: Path,
    exclude: Path | None = None,
    chosen: str | None = None,
) -> Path | None:
    """`chosen` (the rollout's, from $RELEASEGATE_BASELINE) if given, else `[slo.baseline]
    file` if set (relative to the environment file's folder's parent, the repository), else the
    newest baseline.json under `reports_dir` taken for this environment."""
    if chosen:
        return Path(chosen)
    configured = env.model.slo.baseline.file
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else env.path.resolve().parent.parent / path
    found: list[tuple[float, Path]] = []
    if not reports_dir.is_dir():
        return None
    for path in reports_dir.rglob(BASELINE_FILE):
        if exclude is not None and exclude in path.parents:
            continue
        try:
            samples = read_samples(path)
        except SamplesUnreadable:
            continue
        if samples.environment == env.name:
            found.append((path.stat().st_mtime, path))
    return max(found)[1] if found else None
