"""Stopping a command's process group: nothing it started is left running."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from releasegate.ops.processes import run_in_group, stop_group


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_member_that_ignores_sigterm_is_killed_after_the_leader_exits(tmp_path: Path) -> None:
    """The leader obeys SIGTERM at once; its child ignores it. The group still ends."""
    pid_file = tmp_path / "child.pid"
    script = f"(trap '' TERM; echo $BASHPID > {pid_file}; sleep 60) & wait"
    process = subprocess.Popen(["/bin/bash", "-c", script], start_new_session=True)
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())

    stop_group(process, grace_s=5.0)
    deadline = time.monotonic() + 5
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert process.returncode is not None
    assert not running(child)


# --- run_in_group ----------------------------------------------------------------------------


def test_a_command_runs_with_its_output_in_the_log(tmp_path: Path) -> None:
    """A shell string runs as written; stdout and stderr go to the log; the exit is kept."""
    log = tmp_path / "out" / "command.log"

    ran = run_in_group("echo out; echo err >&2; exit 3", log=log, timeout_s=10)

    assert (ran.exit_code, ran.timed_out, ran.stopped, ran.start_error) == (3, False, False, None)
    assert log.read_text().splitlines() == ["out", "err"]


def test_a_command_past_its_timeout_is_stopped_with_its_group(tmp_path: Path) -> None:
    """At the timeout the group is stopped: no exit code, timed out, nothing left running."""
    pid_file = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"

    ran = run_in_group(["/bin/bash", "-c", script], log=tmp_path / "log", timeout_s=0.5)
    child = int(pid_file.read_text())
    # signalled with its group; on a loaded machine it may take a moment to be gone
    deadline = time.monotonic() + 5
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert (ran.exit_code, ran.timed_out) == (None, True)
    assert not running(child)


def test_a_command_is_stopped_when_the_caller_asks(tmp_path: Path) -> None:
    """`stopped()` turning true ends the run early, marked stopped, not timed out."""
    asked = time.monotonic() + 0.3

    ran = run_in_group(
        ["sleep", "30"],
        log=tmp_path / "log",
        timeout_s=30,
        stopped=lambda: time.monotonic() > asked,
    )

    assert (ran.exit_code, ran.stopped, ran.timed_out) == (None, True, False)
    assert ran.duration_s < 10


def test_a_command_that_cannot_start_says_why(tmp_path: Path) -> None:
    """A missing program is no exception: `start_error` holds it."""
    ran = run_in_group([str(tmp_path / "missing")], log=tmp_path / "log", timeout_s=5)

    assert ran.exit_code is None
    assert isinstance(ran.start_error, FileNotFoundError)


def test_the_environment_is_replaced_when_given(tmp_path: Path) -> None:
    """`env` is the whole environment of the command."""
    log = tmp_path / "log"

    run_in_group("echo $ONLY_THIS", log=log, timeout_s=5, env={"ONLY_THIS": "yes", "PATH": "/bin"})

    assert log.read_text() == "yes\n"
