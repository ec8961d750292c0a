"""A user's command run once, bounded: its own process group (killed whole at the timeout),
stdin closed, stdout kept (at most `MAX_OUTPUT` bytes), stderr's last line for messages."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from releasegate.config.strict_base import Command

# a metric is a number or a small JSON document; a log read may be long but not unbounded
MAX_OUTPUT = 32 * 1024 * 1024


@dataclass(frozen=True)
class Captured:
    """How the command ended: its stdout, and `problem` (None when it exited 0)."""

    stdout: str
    problem: str | None
    duration_s: float


def run_capturing(command: Command, *, timeout_s: float, cwd: Path) -> Captured:
    """Run `command` (a string through the shell, a list without) and capture its output."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command,
            shell=isinstance(command, str),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # the whole group is killed at the timeout
        )
    except OSError as exc:
        return Captured("", f"could not start: {exc.strerror or exc}", 0.0)
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return Captured("", f"timed out after {timeout_s:g}s", time.monotonic() - started)
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    duration = time.monotonic() - started
    stdout = out[:MAX_OUTPUT].decode("utf-8", "replace")
    if process.returncode != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no stderr"]
        return Captured(stdout, f"exit status {process.returncode}: {last[0][:200]}", duration)
    return Captured(stdout, None, duration)
