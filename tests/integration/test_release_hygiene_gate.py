"""Release hygiene in real gate runs: the pre-deploy changelog check against a changelog in a
repository of its own, and the post-deploy duration check against a real `releasegate watch`
around a deploy command that finishes in time or is stopped at `[watch] max_duration`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from releasegate.evidence.decide import ExitCode
from releasegate.ops.watch import TIMELINE_FILE, read_timeline
from tests.integration.conftest import GateRun, RunGate, releasegate_in_repo, write_env
from tests.tls_server import unused_port

CHANGELOG_CHECK = "test_changelog_has_an_entry_for_the_release"
DURATION_CHECK = "test_deploy_finished_within_max_duration"

# nothing needs to answer: the changelog is read from the repository, and the duration is the
# deploy command's, whatever the probes of the watch saw
ENV = """
[target]
base_url = "http://127.0.0.1:{port}"
read_only = true

[watch]
rate = 10
before = "0.2s"
after = "0.3s"
max_duration = "1s"
"""

CHANGELOG = """# Changelog

## [Unreleased]

## [1.4.2] - 2026-12-01

### Fixed

- Sign-in keeps the page asked for.

## [1.4.1] - 2026-11-20

### Added

- Ticket export.
"""


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    """A repository (tmp_path) with its changelog and environments/staging.toml naming it."""
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    text = ENV.format(port=unused_port()) + '\n[release]\nchangelog = "CHANGELOG.md"\n'
    write_env(tmp_path / "environments", "staging", text)
    return tmp_path / "environments"


def pre_deploy(run_gate: RunGate, envs: Path, *args: str) -> GateRun:
    return run_gate(
        "--env",
        "staging",
        "-k",
        "changelog",
        *args,
        marker="pre_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )


def test_a_changelog_with_the_release_passes(run_gate: RunGate, envs: Path) -> None:
    run = pre_deploy(run_gate, envs, "--release-version", "v1.4.2")

    check = run.check(CHANGELOG_CHECK)
    assert check.outcome == "passed", run.output
    assert [(m.name, m.value) for m in check.measurements] == [
        ("changelog entry", "## [1.4.2] - 2026-12-01")
    ]
    decided = releasegate_in_repo(envs, "decide", str(run.run_dir))
    assert decided.returncode == ExitCode.GO, decided.stdout + decided.stderr


def test_a_changelog_without_the_release_is_a_rollback(run_gate: RunGate, envs: Path) -> None:
    run = pre_deploy(run_gate, envs, "--release-version", "1.4.3")

    check = run.check(CHANGELOG_CHECK)
    assert check.outcome == "failed", run.output
    assert "CHANGELOG.md has no entry for 1.4.3; its newest versions: 1.4.2, 1.4.1" in check.message
    decided = releasegate_in_repo(envs, "decide", str(run.run_dir))
    assert decided.returncode == ExitCode.ROLLBACK, decided.stdout + decided.stderr
    assert "has no entry for 1.4.3" in decided.stdout


def test_a_missing_changelog_is_a_rollback_naming_the_path(run_gate: RunGate, envs: Path) -> None:
    (envs.parent / "CHANGELOG.md").unlink()

    run = pre_deploy(run_gate, envs, "--release-version", "1.4.2")

    check = run.check(CHANGELOG_CHECK)
    assert check.outcome == "failed", run.output
    assert f"the changelog CHANGELOG.md ({envs.parent / 'CHANGELOG.md'}) does not exist" in (
        check.message
    )


def test_without_a_release_version_the_check_is_skipped_saying_so(
    run_gate: RunGate, envs: Path
) -> None:
    run = pre_deploy(run_gate, envs)

    check = run.check(CHANGELOG_CHECK)
    assert check.outcome == "skipped", run.output
    assert "no release version: pass --release-version" in check.message


def test_without_a_changelog_configured_there_is_no_check(
    run_gate: RunGate, tmp_path: Path
) -> None:
    envs = tmp_path / "environments"
    write_env(envs, "staging", ENV.format(port=unused_port()))

    run = pre_deploy(run_gate, envs, "--release-version", "1.4.2")

    assert CHANGELOG_CHECK not in run.output  # deselected, not skipped in every report
    assert not any(c.id.endswith(CHANGELOG_CHECK) for c in run.results.checks)


def watch(envs: Path, *args: str) -> str:
    """`releasegate watch --env staging ARGS...`; its output."""
    reports = envs.parent / "reports"
    argv = ["watch", "--env", "staging", f"--reports-dir={reports}", *args]
    done = releasegate_in_repo(envs, *argv)
    return done.stdout + done.stderr


def post_deploy(run_gate: RunGate, envs: Path) -> GateRun:
    return run_gate(
        "--env",
        "staging",
        "-k",
        "max_duration",
        marker="post_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )


def test_a_quick_deploy_finished_within_max_duration(run_gate: RunGate, envs: Path) -> None:
    watch(envs, "--", sys.executable, "-c", "pass")

    run = post_deploy(run_gate, envs)

    check = run.check(DURATION_CHECK)
    assert check.outcome == "passed", run.output
    [duration] = check.measurements
    assert (duration.name, duration.unit, duration.threshold) == ("deploy duration", "s", 1.0)
    assert isinstance(duration.value, float)
    assert duration.value < 1.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(
            [],
            r"the deploy did not finish within max_duration 1s: the command was stopped after"
            r" [\d.]+s \(",
            id="stopped-at-max-duration",
        ),
        pytest.param(
            ["--max-duration", "10s"],
            r"the deploy took [\d.]+s, over max_duration 1s \(",
            id="over-under-a-longer-watch-limit",
        ),
    ],
)
def test_a_deploy_past_max_duration_is_a_rollback_with_the_figure(
    run_gate: RunGate, envs: Path, options: list[str], message: str
) -> None:
    """Sleeping past `[watch] max_duration`: stopped there by the watch, or (a watch given a
    longer `--max-duration`) finished too late; either way the post-deploy check fails."""
    output = watch(envs, *options, "--", sys.executable, "-c", "import time; time.sleep(1.6)")
    timeline = read_timeline(next((envs.parent / "reports").rglob(TIMELINE_FILE)))
    assert timeline.stopped_by == ("command" if options else "max_duration"), output

    run = post_deploy(run_gate, envs)

    check = run.check(DURATION_CHECK)
    assert check.outcome == "failed", run.output
    assert re.match(message, check.message), check.message
    assert check.measurements[0].name == "deploy duration"
    decided = releasegate_in_repo(envs, "decide", str(run.run_dir))
    assert decided.returncode == ExitCode.ROLLBACK, decided.stdout + decided.stderr
