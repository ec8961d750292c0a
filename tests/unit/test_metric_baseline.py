"""Values measured before the deploy (`before = "baseline"`): this run's first, else the newest
usable one; another target's, another environment's or a stale one is never `before`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from releasegate.metrics.metric_baseline import Before, find_before, write_before

NOW = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
TARGET = "http://127.0.0.1:8000"


def _write(reports: Path, run: str, value: float, *, ago_s: float = 60, **other: str) -> None:
    taken = (NOW - timedelta(seconds=ago_s)).isoformat()
    fields = {"environment": "local", "target_url": TARGET, **other}
    write_before(reports / run, Before("failed jobs", value, taken_at=taken, **fields))


def _find(reports: Path, run: str = "this-run") -> tuple[object, str]:
    search = find_before(
        "failed jobs",
        run_dir=reports / run,
        reports_dir=reports,
        environment="local",
        target_url=TARGET,
        max_age_s=3600,
        now=NOW,
    )
    return (None if search.found is None else search.found.value), search.reason


def test_this_runs_value_comes_first(tmp_path: Path) -> None:
    _write(tmp_path, "older-run", 1, ago_s=30)
    _write(tmp_path, "this-run", 2, ago_s=90)

    assert _find(tmp_path)[0] == 2


def test_else_the_newest_usable_one(tmp_path: Path) -> None:
    _write(tmp_path, "run-a", 1, ago_s=600)
    _write(tmp_path, "run-b", 5, ago_s=60)

    value, reason = _find(tmp_path)

    assert value == 5
    assert "run-b" in reason


def test_another_targets_value_is_not_before(tmp_path: Path) -> None:
    _write(tmp_path, "run-a", 1, target_url="http://127.0.0.1:9999")

    value, reason = _find(tmp_path)

    assert value is None
    assert "not of this target" in reason


def test_another_environments_value_is_not_before(tmp_path: Path) -> None:
    _write(tmp_path, "run-a", 1, environment="prod")

    value, reason = _find(tmp_path)

    assert value is None
    assert "env=prod" in reason


def test_a_stale_value_is_not_before(tmp_path: Path) -> None:
    _write(tmp_path, "run-a", 1, ago_s=7200)

    value, reason = _find(tmp_path)

    assert value is None
    assert "older than max_age 3600s" in reason


def test_none_at_all_says_what_to_run(tmp_path: Path) -> None:
    value, reason = _find(tmp_path)

    assert value is None
    assert "run the pre-deploy stage" in reason


def test_an_unreadable_file_is_passed_over_with_its_reason(tmp_path: Path) -> None:
    _write(tmp_path, "run-a", 1)
    path = next(tmp_path.rglob("*.json"))
    path.write_text("{not json")

    value, reason = _find(tmp_path)

    assert value is None
    assert "unreadable" in reason
