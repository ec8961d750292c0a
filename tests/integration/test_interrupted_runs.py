"""A run that does not finish still leaves a results.json, marked incomplete: HOLD, never GO."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from releasegate.evidence.decide import decide
from releasegate.evidence.results import read_results
from releasegate.outcome import Verdict
from tests.integration.conftest import ROOT, StartService, gate_argv, gate_env


def start_slow_run(base_url: str, reports: Path, *extra: str) -> subprocess.Popen[str]:
    argv = gate_argv(
        "--env", "local", "--base-url", base_url, *extra, reports=reports, run_id="slow"
    )
    return subprocess.Popen(
        argv, cwd=ROOT, env=gate_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for_first_checks(results: Path, timeout_s: float = 180) -> None:
    """Until results.json lists at least one check (the run is under way). A run with `-n 2`
    on a saturated machine (xdist, other jobs) took more than 60 s to record its first one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if json.loads(results.read_text())["checks"]:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{results}: no check recorded within {timeout_s} s")


def test_ctrl_c_leaves_results_marked_interrupted(
    start_service: StartService, tmp_path: Path
) -> None:
    """SIGINT in the middle of a run: results.json says interrupted, and the verdict is HOLD."""
    service = start_service("latency=700ms")
    process = start_slow_run(service.base_url, tmp_path)
    wait_for_first_checks(tmp_path / "slow" / "results.json")

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)

    results = read_results(tmp_path / "slow")
    assert results.run.status == "interrupted", (results.run, output[-3000:])
    assert not results.run.complete
    assert decide(results).verdict is Verdict.HOLD
    assert "interrupted" in decide(results).reasons[0].message


def test_ctrl_c_in_a_hook_wrapper_still_marks_the_run_interrupted(
    start_service: StartService, tmp_path: Path
) -> None:
    """A SIGINT that lands while a report is made (inside pytest-html's, Allure's or
    Playwright's hook wrappers) may reach pytest as an INTERNALERROR, or as a warning turned
    into a test error: the run is still interrupted, stops early, and the verdict is HOLD.
    Sent a little after each check is recorded, over a few runs, to hit that moment."""
    service = start_service("latency=700ms")
    for attempt in range(4):
        reports = tmp_path / f"try{attempt}"
        process = start_slow_run(service.base_url, reports)
        wait_for_first_checks(reports / "slow" / "results.json")
        time.sleep(0.3 * attempt)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        results = read_results(reports / "slow")

        assert results.run.status == "interrupted", (results.run, output[-2000:])
        assert not results.run.complete
        assert decide(results).verdict is Verdict.HOLD


def test_a_killed_run_leaves_results_marked_running(
    start_service: StartService, tmp_path: Path
) -> None:
    """SIGKILL gives pytest no chance to finish: the last results.json says running; HOLD."""
    service = start_service("latency=700ms")
    process = start_slow_run(service.base_url, tmp_path)
    wait_for_first_checks(tmp_path / "slow" / "results.json")

    process.kill()
    process.communicate(timeout=30)

    results = read_results(tmp_path / "slow")
    assert results.run.status == "running"
    assert decide(results).verdict is Verdict.HOLD


def worker_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def test_a_killed_worker_is_missing_evidence(start_service: StartService, tmp_path: Path) -> None:
    """An xdist worker killed mid-check: its check is an error (crash), and the verdict HOLD."""
    service = start_service("latency=700ms")
    process = start_slow_run(service.base_url, tmp_path, "-n", "2")
    wait_for_first_checks(tmp_path / "slow" / "results.json")

    victims = worker_pids(process.pid)
    assert victims, "no xdist worker found"
    os.kill(victims[0], signal.SIGKILL)
    process.communicate(timeout=90)

    results = read_results(tmp_path / "slow")
    crashed = [c for c in results.checks if c.cause == "crash"]
    assert crashed, [(c.id, c.outcome) for c in results.checks]
    assert {c.outcome for c in crashed} == {"error"}
    assert not results.run.complete
    assert decide(results).verdict is Verdict.HOLD
