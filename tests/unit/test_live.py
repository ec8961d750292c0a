"""The live progress line of `releasegate run` on a terminal."""

from __future__ import annotations

import json
from pathlib import Path

from releasegate.cli.live import _progress_text


def test_progress_counts_checks_by_outcome(tmp_path: Path) -> None:
    """The line counts done checks and names each outcome in plain words."""
    results = tmp_path / "results.json"
    checks = [{"outcome": "passed"}, {"outcome": "passed"}, {"outcome": "error"}]
    results.write_text(json.dumps({"checks": checks}))

    assert _progress_text(results) == "3 checks done: 2 passed, 1 could not measure"


def test_progress_before_any_evidence(tmp_path: Path) -> None:
    """No results.json yet (or half of one): pytest is starting."""
    (tmp_path / "results.json").write_text('{"checks": [')

    assert _progress_text(tmp_path / "results.json") == "starting pytest"
    assert _progress_text(tmp_path / "missing.json") == "starting pytest"
