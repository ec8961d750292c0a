"""Taking the SLO baseline before a deploy: the SLO gate's synthetic samples of the key
endpoints, written as baseline.json with the target URL and the time.

One job, three callers: `releasegate baseline`, a rollout before its first stage, and the
pre-deploy gate (`suites/pre_deploy/test_baseline.py`), which in a run that also has the SLO gate
writes that gate's samples instead of sampling twice. Which baseline the SLO gate later
compares against is `releasegate.slo.baseline`'s question.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from releasegate.config import Environment
from releasegate.errors import BaselineUnanswered
from releasegate.redact import Redactor
from releasegate.slo.baseline import baseline_plan
from releasegate.slo.synthetic import SampleSet, take_samples


@dataclass(frozen=True)
class BaselineTaken:
    """A baseline written: its samples and its file."""

    samples: SampleSet
    path: Path

    def line(self) -> str:
        """`baseline: 40 samples of GET /api/x in 2.1s`"""
        samples = self.samples
        return (
            f"baseline: {len(samples.samples)} samples of {', '.join(samples.endpoints())}"
            f" in {samples.elapsed_s:.1f}s"
        )


def take_baseline(
    env: Environment, target: str, path: Path, redactor: Redactor | None = None
) -> BaselineTaken:
    """Sample `target` as the environment's `[slo.synthetic]` says (at most 400 requests) and
    write the samples to `path`, masked with `redactor` (default: the environment's).

    EvidenceMissing when there is nothing to sample (no endpoints), `BaselineUnanswered` when
    no request got an answer (nothing is written then)."""
    samples = take_samples(target, baseline_plan(env), environment=env.name)
    return write_baseline(samples, target, path, redactor or env.redactor)


def write_baseline(
    samples: SampleSet, target: str, path: Path, redactor: Redactor
) -> BaselineTaken:
    """Write samples already taken of `target` (the SLO gate's, in a run that has both) as
    the baseline; `BaselineUnanswered` when none of them got an answer (nothing is written)."""
    if not samples.latencies():
        raise BaselineUnanswered(
            f"no answer from {redactor.redact(target)} in {len(samples.samples)} requests:"
            " no baseline written"
        )
    samples.write(path, redactor)
    return BaselineTaken(samples, path)
