"""Stopping a command's process group: nothing it started is left running."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from releasegate.ops.processes import stop_group


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
