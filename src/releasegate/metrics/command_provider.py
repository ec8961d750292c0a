"""`provider = "command"`: an argv (or a shell string) run with a timeout in its own process
group; its stdout is the value (a number or JSON). A non-zero exit, a timeout or output that is
neither is a provider error, with the command's last words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from releasegate.config.strict_base import Command, show_command
from releasegate.errors import ProviderError
from releasegate.metrics.command_run import run_capturing
from releasegate.metrics.provider import Reading, parse_text


@dataclass(frozen=True)
class CommandProvider:
    command: Command
    timeout_s: float
    cwd: Path

    @property
    def where(self) -> str:
        return f"command `{show_command(self.command)}`"

    def read(self) -> Reading:
        ran = run_capturing(self.command, timeout_s=self.timeout_s, cwd=self.cwd)
        if ran.problem is not None:
            raise ProviderError(f"{ran.problem} ({self.where})")
        return Reading(parse_text(ran.stdout, self.where), f"exit 0 in {ran.duration_s:.2f}s")
