"""Which baseline counts: one taken of this target (its recorded URL, normalised) within
`[slo.baseline] max_age` by the time it records, not the newest file by mtime; any other is no
baseline and says why, naming the file, its target or age and the limit."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.config import Environment, load_environment
from releasegate.errors import EvidenceMissing
from releasegate.slo.baseline import choose_baseline, find_baseline
from releasegate.slo.synthetic import BASELINE_FILE, Sample, SampleSet

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TARGET = "http://127.0.0.1:8000"


def environment(tmp_path: Path, baseline: str = "") -> Environment:
    folder = tmp_path / "environments"
    folder.mkdir(exist_ok=True)
    (folder / "staging.toml").write_text(
        f'[target]\nbase_url = "{TARGET}"\n\n[slo]\nlatency_p95_ms = 300\n\n[slo.baseline]\n'
        f"{baseline}\n",
        encoding="utf-8",
    )
    return load_environment("staging", folder, {})


def write_baseline(
    reports: Path, name: str, *, target: str = TARGET, age: timedelta, env: str = "staging"
) -> Path:
    samples = SampleSet(
        environment=env,
        target_url=target,
        samples=[Sample(0.0, "GET /a", 200, 3.0)],
        taken_at=(NOW - age).isoformat(),
    )
    path = reports / "baselines" / name / BASELINE_FILE
    samples.write(path)
    return path


def test_a_recent_baseline_of_this_target_is_chosen_whatever_its_spelling(tmp_path: Path) -> None:
    env = environment(tmp_path)
    path = write_baseline(tmp_path / "reports", "a", target=TARGET + "/", age=timedelta(hours=1))

    choice = choose_baseline(env, tmp_path / "reports", "HTTP://127.0.0.1:8000", now=NOW)

    assert choice.path == path
    assert choice.samples is not None


def test_another_targets_baseline_is_no_baseline_even_when_newer(tmp_path: Path) -> None:
    """The demo's baseline (another instance, another port) taken after this target's: the
    comparison uses this target's, not the demo's."""
    env = environment(tmp_path)
    reports = tmp_path / "reports"
    ours = write_baseline(reports, "ours", age=timedelta(hours=3))
    write_baseline(reports, "demo", target="http://127.0.0.1:41234", age=timedelta(minutes=5))

    choice = choose_baseline(env, reports, TARGET, now=NOW)

    assert choice.path == ours


def test_only_another_targets_baseline_is_stale_naming_file_and_targets(tmp_path: Path) -> None:
    env = environment(tmp_path)
    demo = write_baseline(
        tmp_path / "reports", "demo", target="http://127.0.0.1:41234", age=timedelta(minutes=5)
    )

    choice = choose_baseline(env, tmp_path / "reports", TARGET, now=NOW)

    assert choice.samples is None
    assert choice.reason() == (
        f"evidence-stale: baseline {demo} was taken of http://127.0.0.1:41234, not of this"
        f" target {TARGET}"
    )


def test_a_baseline_older_than_max_age_is_stale_by_its_recorded_time(tmp_path: Path) -> None:
    """Its file was just written (a fresh mtime); the time it records is 30 hours ago."""
    env = environment(tmp_path)
    old = write_baseline(tmp_path / "reports", "old", age=timedelta(hours=30))

    choice = choose_baseline(env, tmp_path / "reports", TARGET, now=NOW)

    assert choice.samples is None
    assert choice.reason().startswith(f"evidence-stale: baseline {old} was taken 30.0 h ago")
    assert "older than [slo.baseline] max_age 24.0 h" in choice.reason()


def test_max_age_is_configurable(tmp_path: Path) -> None:
    env = environment(tmp_path, 'max_age = "2h"')
    write_baseline(tmp_path / "reports", "old", age=timedelta(hours=3))

    choice = choose_baseline(env, tmp_path / "reports", TARGET, now=NOW)

    assert choice.samples is None
    assert "max_age 2.0 h" in choice.reason()


def test_the_newest_is_chosen_by_recorded_time_not_mtime(tmp_path: Path) -> None:
    env = environment(tmp_path)
    reports = tmp_path / "reports"
    newer = write_baseline(reports, "newer", age=timedelta(hours=1))
    older = write_baseline(reports, "older", age=timedelta(hours=2))
    os.utime(newer, (1_000_000, 1_000_000))  # a checkout or copy: mtime says nothing

    assert choose_baseline(env, reports, TARGET, now=NOW).path == newer
    assert find_baseline(env, reports) == newer
    assert older.exists()


def test_a_configured_file_of_another_target_is_stale(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    path = write_baseline(reports, "pinned", target="http://10.0.0.9:8000", age=timedelta(0))
    env = environment(tmp_path, f'file = "{path}"')

    choice = choose_baseline(env, reports, TARGET, now=NOW)

    assert choice.samples is None
    assert "not of this target" in choice.reason()


def test_a_rollouts_chosen_baseline_that_is_too_old_is_stale(tmp_path: Path) -> None:
    env = environment(tmp_path)
    path = write_baseline(tmp_path / "rollout", "b", age=timedelta(days=3))

    choice = choose_baseline(env, tmp_path / "reports", TARGET, now=NOW, chosen=str(path))

    assert choice.samples is None
    assert "was taken 3.0 days ago" in choice.reason()


def test_an_unreadable_named_baseline_is_missing_evidence(tmp_path: Path) -> None:
    env = environment(tmp_path)

    with pytest.raises(EvidenceMissing, match=r"baseline: .*no such file"):
        choose_baseline(env, tmp_path, TARGET, now=NOW, chosen=str(tmp_path / "gone.json"))


def test_no_baseline_at_all_says_so(tmp_path: Path) -> None:
    env = environment(tmp_path)
    write_baseline(tmp_path / "reports", "prod", env="prod", age=timedelta(0))

    choice = choose_baseline(env, tmp_path / "reports", TARGET, now=NOW)

    assert choice.samples is None
    assert choice.rejected == ()
    assert choice.reason() == "no baseline taken before the deploy"


@pytest.mark.parametrize(
    ("objectives", "key", "expected"),
    [
        pytest.param("latency_p95_ms = 300", "", 30.0, id="10 % of a 300 ms p95"),
        pytest.param("latency_p50_ms = 20\nlatency_p95_ms = 300", "", 5.0, id="floor of 5 ms"),
        pytest.param("", "", 5.0, id="no objective: 5 ms"),
        pytest.param("latency_p95_ms = 300", "min_increase_ms = 12", 12.0, id="configured"),
    ],
)
def test_the_absolute_minimum_increase(
    tmp_path: Path, objectives: str, key: str, expected: float
) -> None:
    (tmp_path / "staging.toml").write_text(
        f'[target]\nbase_url = "{TARGET}"\n[slo]\n{objectives}\n[slo.baseline]\n{key}\n'
    )

    assert load_environment("staging", tmp_path, {}).model.slo.regression_floor_ms() == expected
