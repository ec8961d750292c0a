"""`releasegate watch` (and the demo's deploy) as one call: probe the target while the deploy
command runs, write the timeline under `reports/watches/<run>/`, and judge it.

The timeline is what the post-deploy gate reads (`suites/post_deploy/test_zero_downtime.py`);
the judgement here is the same one (`releasegate.ops.watch.judge_watch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.config import Command, Environment, show_command
from releasegate.evidence.runs import new_run_id, scrub_tree
from releasegate.ops.watch import (
    COMMAND_LOG,
    TIMELINE_FILE,
    Timeline,
    WatchPlan,
    judge_watch,
    run_watch,
    watch_plan,
    watch_verdict,
)
from releasegate.outcome import Judged, Verdict

WATCHES_DIR = "watches"  # under the reports folder: watches/<run>/timeline.json


@dataclass(frozen=True)
class WatchedDeploy:
    """A deploy watched: where its timeline and the command's output are, and the judgement."""

    timeline: Timeline
    timeline_file: Path
    command_log: Path
    judged: Judged

    @property
    def verdict(self) -> Verdict:
        return watch_verdict(self.judged)


def deploy_command(words: Sequence[str]) -> str | list[str]:
    """The deploy command from the command line: one word with a space in it is a shell command
    (`watch -- "./deploy.sh v1 && ./smoke.sh"`), else the words are argv."""
    return words[0] if len(words) == 1 and " " in words[0] else list(words)


def watch_deploy(
    env: Environment,
    target: str,
    command: Command,
    reports_dir: Path,
    *,
    rate: float | None = None,
    max_duration_s: float | None = None,
    announce: Callable[[WatchPlan, str], None] = lambda plan, shown: None,
) -> WatchedDeploy:
    """Probe `target` while `command` runs (`announce` is told the plan and the command as
    shown, first), write the
    timeline (masked) and judge it with the environment's `[watch]` limits."""
    plan = watch_plan(env, target, rate=rate, max_duration_s=max_duration_s)
    run_dir = reports_dir / WATCHES_DIR / new_run_id(env.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    announce(plan, show_command(command))
    timeline = run_watch(plan, command, environment=env.name, log=run_dir / COMMAND_LOG)
    timeline.write(run_dir / TIMELINE_FILE, env.redactor)
    scrub_tree(run_dir, env.redactor)
    return WatchedDeploy(
        timeline,
        run_dir / TIMELINE_FILE,
        run_dir / COMMAND_LOG,
        judge_watch(timeline, env.model.watch),
    )
