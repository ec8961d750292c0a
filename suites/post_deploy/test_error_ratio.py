"""Post-deploy: a short, bounded sample of the key endpoints is (nearly) free of errors.

A quick look right after the deploy; the SLO gate judges the same with enough samples for a
confidence bound. Here the share of failed requests in the sample is held to the threshold."""

from releasegate.checks.transport import unreachable_sample
from releasegate.config import Environment
from releasegate.errors import EvidenceMissing, TargetUnreachable
from releasegate.ops.reachability import note_answer
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Expect
from releasegate.slo.baseline import sample_plan
from releasegate.slo.statistics import wilson_interval
from releasegate.slo.synthetic import take_samples


def test_error_ratio_is_under_the_threshold(
    gate_run: GateRun, env: Environment, expect: Expect
) -> None:
    """The error rate after the deploy is within its limit.

    5xx answers and requests with no answer, over `[post_deploy] requests` (default 100)
    requests to the key endpoints, are at most `error_ratio_max` (default 1 %). A target that
    answered none of them, every one a transport error, is unreachable: missing evidence."""
    config = env.model.post_deploy
    plan = sample_plan(env, config.requests, config.concurrency, config.rate, config.duration)
    samples = take_samples(gate_run.base_url, plan, environment=env.name).samples
    if not samples:
        raise EvidenceMissing(f"no request was sent in {config.duration:g}s (env={env.name})")
    unreachable = unreachable_sample(samples, gate_run.base_url)
    if unreachable is not None:
        raise TargetUnreachable(gate_run.redactor.redact(f"{unreachable} (env={env.name})"))
    if any(s.status is not None for s in samples):  # evidence the target was reachable
        note_answer(gate_run.run_dir, gate_run.base_url)
    errors = [s for s in samples if s.server_error]
    ratio = len(errors) / len(samples)
    interval = wilson_interval(len(errors), len(samples))
    seen: dict[str, int] = {}
    for s in errors:
        key = f"{s.endpoint}: {s.error or s.status}"
        seen[key] = seen.get(key, 0) + 1
    examples = "; ".join(f"{n}x {k}" for k, n in sorted(seen.items(), key=lambda kv: -kv[1])[:3])

    expect(
        "error ratio",
        ratio,
        "<=",
        config.error_ratio_max,
        samples=len(samples),
        context=f"env={env.name}",
        message=f"{len(errors)} of {len(samples)} requests failed ({ratio:.1%}, 95% interval"
        f" {interval.lower if interval else 0:.1%}..{interval.upper if interval else 0:.1%}),"
        f" over {config.error_ratio_max:.1%}: {examples}",
    )
