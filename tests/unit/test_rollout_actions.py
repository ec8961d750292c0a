"""Running the user's traffic and rollback commands: output, exit, timeout, environment."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from releasegate.rollout import CommandRecord
from releasegate.rollout_actions import run_command


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
