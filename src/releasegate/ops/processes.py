"""Child processes that must not outlive their purpose: a deploy command, a traffic command, a
hook, a gate run. Each runs in its own process group (`start_new_session=True`), so stopping it
stops everything it started; `run_in_group` is the one way they are run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TERMINATE_GRACE_S = 5.0
_POLL_S = 0.1


def stop_group(
    process: subprocess.Popen[bytes],
    grace_s: float = TERMINATE_GRACE_S,
    first: signal.Signals = signal.SIGTERM,
) -> None:
    """Send `first` (SIGTERM; SIGINT lets a gate run write its evidence as interrupted) to the
    process's group, then SIGKILL it if it is still there after `grace_s`.

    Ctrl-C and SIGTERM wait until it is done (a second Ctrl-C, or CI's SIGTERM after its
    SIGINT, would otherwise cut the grace short and skip the SIGKILL, leaving the group
    running); they arrive as soon as it returns."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        for sig, wait in ((first, grace_s), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # the leader is gone; a member that ignored the first signal may not be
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@dataclass(frozen=True)
class Ran:
    """How one run of a command ended. `exit_code` is None when it did not start
    (`start_error` says why), was stopped at its timeout (`timed_out`) or because the caller
    asked (`stopped`)."""

    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    stopped: bool = False
    start_error: OSError | None = None


def run_in_group(
    command: str | Sequence[str],
    *,
    log: Path,
    timeout_s: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    first: signal.Signals = signal.SIGTERM,
    grace_s: float = TERMINATE_GRACE_S,
    stopped: Callable[[], bool] | None = None,
    on_start: Callable[[], None] = lambda: None,
) -> Ran:
    """Run `command` once in its own process group, its output (stdout and stderr) in `log`,
    for at most `timeout_s`. A string is a shell command, run as written; a list runs without
    a shell. `env` replaces the environment (None: ours).

    At the timeout, or when `stopped()` turns true (polled), the group gets `first` and, after
    `grace_s`, SIGKILL (`stop_group`). Ctrl-C stops the group too, then propagates, so the
    caller can save its state. `on_start` is called once the process runs."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def ended(
        exit_code: int | None,
        *,
        timed_out: bool = False,
        by_caller: bool = False,
        start_error: OSError | None = None,
    ) -> Ran:
        duration = round(time.monotonic() - started, 3)
        return Ran(exit_code, duration, timed_out, by_caller, start_error)

    with log.open("wb") as handle:
        try:
            process = subprocess.Popen(
                command,
                shell=isinstance(command, str),
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, to stop all of it
            )
        except OSError as exc:
            return ended(None, start_error=exc)
        try:
            on_start()
            deadline = started + timeout_s
            while True:
                wait = deadline - time.monotonic()
                if stopped is not None:
                    wait = min(wait, _POLL_S)
                try:
                    return ended(process.wait(max(wait, 0.0)))
                except subprocess.TimeoutExpired:
                    pass
                if stopped is not None and stopped():
                    stop_group(process, grace_s, first)
                    return ended(None, by_caller=True)
                if time.monotonic() >= deadline:
                    stop_group(process, grace_s, first)
                    return ended(None, timed_out=True)
        except BaseException:
            if process.poll() is None:
                stop_group(process, grace_s, first)
            raise
