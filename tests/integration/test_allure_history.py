"""Allure's reports show the earlier runs of their environment: real allure-pytest results,
rendered by the real Allure 3 command line."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from releasegate.redact import MASK, Redactor
from releasegate.report.allure_render import find_allure, history_file, render_allure
from tests.integration.conftest import ROOT

SECRET = "tok-7Qx9pLmZ3vR2"  # pragma: allowlist secret
TINY_SUITE = f"""
import os

FLIPPED = os.environ.get("TINY_FLIPPED") == "1"


def test_steady():
    assert True


def test_flips():
    assert not FLIPPED, "flipped with token={SECRET}"
"""
# run id -> (environment, start, whether test_flips fails)
RUNS = {
    "20260101T000000Z-staging-a": ("staging", datetime(2026, 1, 1, 0, 0, tzinfo=UTC), False),
    "20260101T000100Z-staging-b": ("staging", datetime(2026, 1, 1, 0, 1, tzinfo=UTC), True),
    "20260101T000200Z-prod-a": ("prod", datetime(2026, 1, 1, 0, 2, tzinfo=UTC), True),
}
FIRST, SECOND, PROD = RUNS


@pytest.fixture(scope="module")
def allure() -> Path:
    found = find_allure(ROOT)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Allure not installed; ./dev runs npm ci")
        pytest.skip("no node_modules/.bin/allure (run npm ci)")
    return found


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports folder of three runs of a tiny suite, each with its allure-results."""
    suite = tmp_path_factory.mktemp("tiny-suite")
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "test_tiny.py").write_text(TINY_SUITE)
    reports = tmp_path_factory.mktemp("allure-history") / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "RELEASEGATE_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    argv = [sys.executable, "-m", "pytest", "test_tiny.py", "-q", "-p", "no:cacheprovider"]
    argv += ["-p", "allure_pytest.plugin"]  # the only plugin: none is loaded by itself
    for run_id, (_, _, flipped) in RUNS.items():
        done = subprocess.run(
            [*argv, f"--alluredir={reports / run_id / 'allure-results'}"],
            cwd=suite,
            env={**env, "TINY_FLIPPED": "1" if flipped else "0"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == (1 if flipped else 0), done.stdout + done.stderr
    return reports


@pytest.fixture
def reports(recorded: Path, tmp_path: Path) -> Path:
    """A copy of the recorded runs, so each test keeps its own history files."""
    return Path(shutil.copytree(recorded, tmp_path / "reports"))


def render(allure: Path, reports: Path, run_id: str, redactor: Redactor | None = None) -> Path:
    """Render one run as `report build` does; return its report. (Without the secret by
    default: masked, the base64 data of the test whose message held it can no longer be read.)
    """
    environment, started_at, _ = RUNS[run_id]
    out = reports / "site" / run_id / "allure"

    note = render_allure(
        allure,
        reports / run_id / "allure-results",
        out,
        redactor or Redactor(),
        history=history_file(reports, environment),
        started_at=started_at,
    )

    assert note is None
    return out / "index.html"


def embedded(report: Path) -> dict[str, Any]:
    """The JSON files a single-file Allure report carries, by name (`d("name","<base64>")`)."""
    found = re.findall(r'd\("([^"]+\.json)","([A-Za-z0-9+/=]*)"\)', report.read_text())
    return {name: json.loads(base64.b64decode(data)) for name, data in found}


def checks_in(report: Path) -> dict[str, dict[str, Any]]:
    """Each test of the report by name: its status, transition and History tab."""
    files = embedded(report)
    return {t["name"]: t for n, t in files.items() if n.startswith("data/test-results/")}


def history_points(report: Path) -> list[dict[str, Any]]:
    """The earlier runs the report's trend charts are drawn from."""
    return [p for n, p in embedded(report).items() if n.startswith("data/history/")]


def kept_runs(path: Path) -> list[str]:
    return [json.loads(line)["run"] for line in path.read_text().splitlines()]


def test_the_second_run_shows_the_first_in_its_allure_history(allure: Path, reports: Path) -> None:
    """The first run's report has no history; the second shows the first run as an earlier
    point, each test's status then, and the test that failed since marked as regressed."""
    first = render(allure, reports, FIRST)
    second = render(allure, reports, SECOND)

    flips = checks_in(second)["test_flips"]
    assert flips["status"] == "failed"
    assert flips["transition"] == "regressed"
    assert [h["status"] for h in flips["history"]] == ["passed"]
    assert [h["status"] for h in checks_in(second)["test_steady"]["history"]] == ["passed"]
    assert [p["name"] for p in history_points(second)] == [FIRST]
    assert all(t["history"] == [] for t in checks_in(first).values())
    assert history_points(first) == []
    assert kept_runs(reports / ".allure-history" / "staging.jsonl") == [FIRST, SECOND]


def test_a_run_of_another_environment_shows_none_of_it(allure: Path, reports: Path) -> None:
    """prod's run, though the latest, does not show staging's runs: one history per
    environment."""
    render(allure, reports, FIRST)
    render(allure, reports, SECOND)

    prod = render(allure, reports, PROD)

    assert history_points(prod) == []
    assert all(t["history"] == [] for t in checks_in(prod).values())
    assert checks_in(prod)["test_flips"].get("transition") == "new"
    assert kept_runs(reports / ".allure-history" / "prod.jsonl") == [PROD]
    assert kept_runs(reports / ".allure-history" / "staging.jsonl") == [FIRST, SECOND]


def test_rendering_runs_again_keeps_one_point_per_run(allure: Path, reports: Path) -> None:
    """Runs rendered again, newest first this time, replace their points: no duplicate, and
    the first run's report still shows no later run."""
    render(allure, reports, FIRST)
    render(allure, reports, SECOND)
    later = datetime.now().timestamp() + 60
    for run_id in (FIRST, SECOND):  # new results: both are rendered again
        os.utime(reports / run_id / "allure-results", (later, later))

    second = render(allure, reports, SECOND)
    first = render(allure, reports, FIRST)

    assert kept_runs(reports / ".allure-history" / "staging.jsonl") == [FIRST, SECOND]
    assert [p["name"] for p in history_points(second)] == [FIRST]
    assert [h["status"] for h in checks_in(second)["test_flips"]["history"]] == ["passed"]
    assert history_points(first) == []


def test_the_history_file_is_masked_and_not_in_the_site(allure: Path, reports: Path) -> None:
    """The failure message kept in the history (a secret in it) is masked, and the history
    file lives beside the runs, not in what is published."""
    redactor = Redactor.of([SECRET])
    render(allure, reports, FIRST, redactor)
    published = render(allure, reports, SECOND, redactor)
    kept = (reports / ".allure-history" / "staging.jsonl").read_text()
    raw = "".join(p.read_text() for p in (reports / SECOND / "allure-results").glob("*.json"))

    assert SECRET in raw
    assert not redactor.contains_secret(kept)
    assert f"flipped with token={MASK}" in kept
    assert not redactor.contains_secret(published.read_text())
    assert not list((reports / "site").rglob("*.jsonl"))
