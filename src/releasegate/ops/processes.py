"""Child processes that must not outlive their purpose: a deploy command, a traffic command, a
gate run. Each runs in its own process group (`start_new_session=True`), so stopping it stops
everything it started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

TERMINATE_GRACE_S = 5.0


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
