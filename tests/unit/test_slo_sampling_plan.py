"""Planning the synthetic samples (slo/sampling_plan.py): per objective, the samples the
stopping rule needs on a flawless service and at the share the last run measured, and a warning
when `[slo.synthetic]` cannot send them, naming the file, the key and the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config import SloConfig
from releasegate.probe import Sample
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sampling_plan import (
    budget_warnings,
    latest_samples,
    observed_shares,
    plan,
    plan_lines,
    samples_at_share,
)
from releasegate.slo.stopping import judge_events, samples_to_pass
from releasegate.slo.synthetic import SAMPLES_FILE, SampleSet

P95 = Objective(Indicator.LATENCY, 500.0, 0.95)
ERRORS = Objective(Indicator.ERROR_RATIO, 0.01)


def slo(**synthetic: object) -> SloConfig:
    return SloConfig.model_validate(
        {"latency_p95_ms": 500, "error_ratio_max": "1%", "synthetic": synthetic}
    )


def test_a_flawless_service_needs_the_fewest_samples() -> None:
    assert samples_at_share(ERRORS, 0.95, 0.0) == samples_to_pass(ERRORS, 0.95) == 405


def test_the_closer_to_the_limit_the_more_samples() -> None:
    needs = [samples_at_share(ERRORS, 0.95, share) for share in (0.0, 0.002, 0.005)]

    assert needs[0] is not None
    assert needs[1] is not None
    assert needs[2] is not None
    assert needs[0] < needs[1] < needs[2]
    # and that many do show it, at that share
    assert judge_events(int(0.005 * needs[2]), needs[2], ERRORS, 0.95).name == "PASS"


@pytest.mark.parametrize("share", [0.01, 0.02])
def test_at_or_over_the_limit_no_number_of_samples_shows_it(share: float) -> None:
    assert samples_at_share(ERRORS, 0.95, share) is None


def test_a_budget_too_small_for_a_flawless_service_is_named_with_file_and_key() -> None:
    config = slo(requests=300)

    warnings = budget_warnings(plan(config), config, "environments/prod.toml")

    assert warnings == [
        "environments/prod.toml: [slo.synthetic] requests = 300 allows 300 samples;"
        " error ratio <= 1.00% needs 405 even on a flawless service: HOLD every run"
    ]


def test_rate_times_duration_can_be_what_limits() -> None:
    config = slo(rate=10, duration="10s")

    (warning,) = budget_warnings(plan(config), config, "environments/prod.toml")

    assert "[slo.synthetic] rate = 10 for duration = 10s allows 100 samples" in warning


def test_the_last_runs_share_can_outrun_the_budget() -> None:
    """0.5 % errors last time: the default budget of 1,000 cannot show 1 % at that share."""
    config = slo()
    observed = {ERRORS: 0.005, P95: 0.0}

    plans = plan(config, observed)
    warnings = budget_warnings(plans, config, "environments/prod.toml")
    lines = plan_lines(plans, config, "run-1, 1000 samples")

    needed = samples_at_share(ERRORS, 0.95, 0.005)
    assert needed is not None
    assert needed > 1000
    assert warnings == [
        f"environments/prod.toml: at the last run's 0.50% errors, error ratio <= 1.00% needs"
        f" {needed} samples; [slo.synthetic] requests = 1000 allows 1000"
    ]
    assert lines[1] == (
        f"error ratio <= 1.00%: 405 samples on a flawless service; {needed} samples at 0.50%"
        " errors (run-1, 1000 samples)"
    )
    assert lines[-1] == "budget: 1000 requests, 100/s for 30 s: at most 1000 samples"


def samples_of(environment: str, taken_at: str, errors: int, n: int = 100) -> SampleSet:
    samples = [Sample(0.0, "GET /", 500 if i < errors else 200, 10.0) for i in range(n)]
    return SampleSet(environment, "http://t.test", samples, taken_at=taken_at)


def test_the_newest_run_of_the_environment_is_the_observation(tmp_path: Path) -> None:
    samples_of("prod", "2026-12-01T10:00:00+00:00", 1).write(tmp_path / "a" / SAMPLES_FILE)
    samples_of("prod", "2026-12-02T10:00:00+00:00", 2).write(tmp_path / "b" / SAMPLES_FILE)
    samples_of("staging", "2026-12-03T10:00:00+00:00", 3).write(tmp_path / "c" / SAMPLES_FILE)

    found = latest_samples(tmp_path, "prod")

    assert found is not None
    path, samples = found
    assert path.parent.name == "b"
    assert observed_shares(samples, slo())[ERRORS] == 0.02
    assert latest_samples(tmp_path, "qa") is None
    assert latest_samples(tmp_path / "missing", "prod") is None
