"""Hand-made runs for the report site's tests: a results.json as the gates write it, in an
environment (`staging`) whose file the site loads to mask with its secrets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from releasegate.evidence.results import CheckResult, Results, RunInfo, write_atomically

STAGING_TOML = '[target]\nbase_url = "https://s.example"\n'


def staging_environments(folder: Path) -> Path:
    """An environments folder holding `staging.toml`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "staging.toml").write_text(STAGING_TOML)
    return folder


def write_run(
    reports: Path, run_id: str, checks: list[CheckResult], *, hour: int = 0, **run: object
) -> Path:
    """A finished staging run of `checks`, started at `hour` on 2026-01-01."""
    failed = any(c.outcome in ("failed", "error") for c in checks)
    info = RunInfo.model_validate(
        {
            "id": run_id,
            "environment": "staging",
            "target_url": "https://s.example",
            "started_at": datetime(2026, 1, 1, hour, tzinfo=UTC),
            "finished_at": datetime(2026, 1, 1, hour, 1, tzinfo=UTC),
            "tool_version": "0",
            "stages_requested": ["smoke"],
            "status": "finished",
            "complete": True,
            "pytest_exit_status": 1 if failed else 0,
            **run,
        }
    )
    run_dir = reports / run_id
    write_atomically(run_dir / "results.json", Results(run=info, checks=checks).to_json())
    return run_dir
