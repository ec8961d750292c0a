"""Running the user's traffic and rollback commands: output, exit, timeout, environment."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from releasegate.ops.rollout.engine import CommandRecord
from releasegate.ops.rollout.steps import gate_verdict, run_command
from releasegate.outcome import Verdict
from tests.unit.test_gate_run import write_decision  # the fields of decision.json read


def run(
    tmp_path: Path, command: str | list[str], timeout_s: float = 10.0
) -> tuple[str, CommandRecord]:
    log = tmp_path / "stage" / "traffic.log"
    record = run_command(
        command,
        timeout_s=timeout_s,
        cwd=tmp_path,
        log=log,
        shown="shown",
        extra_env={"RELEASEGATE_TRAFFIC_PERCENT": "50"},
    )
    return log.read_text(), record


def test_output_goes_to_the_log_and_the_exit_is_kept(tmp_path: Path) -> None:
    text, record = run(tmp_path, "echo weight=$RELEASEGATE_TRAFFIC_PERCENT; exit 4")

    assert text == "weight=50\n"
    assert record.exit_code == 4
    assert not record.ok


def test_argv_runs_without_a_shell(tmp_path: Path) -> None:
    text, record = run(tmp_path, [sys.executable, "-c", "print('$HOME')"])

    assert text == "$HOME\n"
    assert record.ok


def test_a_command_past_its_timeout_is_stopped_with_its_children(tmp_path: Path) -> None:
    """The whole process group goes: a child left behind would keep changing traffic."""
    marker = tmp_path / "child-survived"
    script = f"(sleep 2; touch {marker}) & sleep 30"

    _, record = run(tmp_path, script, timeout_s=0.5)

    assert record.timed_out
    assert "timed out after" in record.failure()
    time.sleep(2.5)
    assert not marker.exists()


def test_a_command_that_cannot_start_says_why(tmp_path: Path) -> None:
    text, record = run(tmp_path, [str(tmp_path / "no-such-tool")])

    assert record.exit_code is None
    assert "cannot start" in record.failure()
    assert "cannot start" in text


@pytest.mark.parametrize(
    ("decided", "exit_code", "expected"),
    [
        ("GO", 0, Verdict.GO),
        ("ROLLBACK", 1, Verdict.ROLLBACK),
        (None, 1, Verdict.HOLD),  # a crash exits 1 too: no decision, no rollback
        (None, 0, Verdict.HOLD),
        ("GO", 1, Verdict.HOLD),
        ("HOLD", 2, Verdict.HOLD),
    ],
    ids=["go", "rollback", "crash", "exit-0-no-decision", "disagree", "hold"],
)
def test_a_gate_run_verdict_needs_its_own_decision(
    tmp_path: Path, decided: str | None, exit_code: int, expected: Verdict
) -> None:
    run_dir = tmp_path / "run-1"
    if decided:
        write_decision(run_dir, "run-1", decided)

    verdict, _ = gate_verdict(run_dir, "run-1", exit_code, tmp_path / "gates.log")

    assert verdict == expected


def test_another_runs_decision_is_not_this_runs(tmp_path: Path) -> None:
    """A decision left in the folder by an earlier attempt does not count."""
    write_decision(tmp_path / "run-2", "run-1", "GO")

    verdict, message = gate_verdict(tmp_path / "run-2", "run-2", 0, tmp_path / "gates.log")

    assert verdict is Verdict.HOLD
    assert "run-1" in message
