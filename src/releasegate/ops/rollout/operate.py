"""Operating rollouts: start one, find an existing one, open it again (resume, abort), one
process at a time, and tell the webhook how it ended. `releasegate rollout` calls these.

Refusals raise `RolloutRefused` (one line, exit 3); a rollout another process is running
raises `RolloutBusy` (exit 2).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from releasegate.config import Environment, load_environment
from releasegate.errors import ConfigError, RolloutBusy, RolloutRefused, StateUnreadable
from releasegate.evidence.decision_file import NotificationRecord
from releasegate.evidence.runs import new_run_id
from releasegate.ops.rollout.engine import (
    ROLLOUTS_DIR,
    STATE_FILE,
    STATUS_VERDICT,
    RolloutState,
    digest,
    find_rollouts,
    new_state,
    read_state,
    state_saver,
)
from releasegate.ops.rollout.plan import RolloutPlan, load_plan
from releasegate.ops.rollout.steps import RolloutContext
from releasegate.ops.verdict_actions import notify
from releasegate.redact import MASK

LOCK_FILE = "lock"


def rollout_target(env: Environment, base_url: str | None) -> str:
    """The URL rolled out to: `--base-url`, else the environment's."""
    try:
        target = env.base_url(base_url)
    except ValueError as exc:
        raise RolloutRefused(f"--base-url {exc}") from None
    if target is None:
        raise RolloutRefused(f"no target: pass --base-url or set [target] base_url in {env.path}")
    return target


def new_rollout(
    env: Environment,
    plan: RolloutPlan,
    *,
    target: str,
    release_version: str | None,
    reports_dir: Path,
    suites: Path,
) -> RolloutContext:
    """A rollout about to start (nothing written yet): its id, state and folder."""
    rollout_id = f"{new_run_id(env.name)}-{plan.name}"
    state = new_state(
        rollout_id,
        plan,
        environment=env.name,
        env_file=env.path,
        base_url=target,
        release_version=release_version,
        suites=suites,
    )
    folder = reports_dir / ROLLOUTS_DIR / rollout_id
    return RolloutContext(env, plan, state, folder, reports_dir, target, release_version)


@contextlib.contextmanager
def locked(path: Path, what: str) -> Iterator[None]:
    """One process at a time: a second `resume` while one runs is refused, not interleaved.
    flock is released by the kernel when the holder dies, so a lost process never blocks."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        raise RolloutRefused(f"{path}: cannot write the rollout's lock: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RolloutBusy(f"{what} is being run right now by pid {holder}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_rollout(context: RolloutContext, warn: Callable[[str], None]) -> None:
    """Write the new rollout's state, unless a rollout of the same plan on the same environment
    is unfinished. One start at a time per environment and plan, so two cannot both find none
    unfinished. `warn` is told of state files that cannot be read."""
    env, plan, reports_dir = context.env, context.plan, context.reports_dir
    start_lock = reports_dir / ROLLOUTS_DIR / f".start-{env.name}-{plan.name}"
    with locked(start_lock, f"a start of plan {plan.name} on {env.name}"):
        unreadable: list[Path] = []
        for path, other in find_rollouts(reports_dir, unreadable):
            if other.environment == env.name and other.plan == plan.name and not other.finished:
                raise RolloutRefused(
                    f"rollout {other.id} of plan {plan.name} on {env.name} is {other.status}"
                    f" ({path / STATE_FILE}): `releasegate rollout resume --id {other.id}` or"
                    f" `releasegate rollout abort --id {other.id}` it first"
                )
        for path in unreadable:
            warn(f"{path}: unreadable rollout state, not considered")
        state_saver(context.folder / STATE_FILE, env.redactor)(context.state)


def fresh(context: RolloutContext) -> RolloutContext:
    """The state as it is on disk now that the lock is ours: another process may have moved it
    on between our first read and the lock."""
    try:
        state = read_state(context.folder / STATE_FILE)
    except StateUnreadable as exc:
        raise RolloutRefused(str(exc)) from None
    return replace(context, state=state)


def find_rollout(
    env_name: str | None, rollout_id: str | None, reports_dir: Path, *, unfinished: bool
) -> tuple[Path, RolloutState]:
    """The rollout named by `--id`, else the newest (unfinished) one of the environment."""
    unreadable: list[Path] = []
    found = find_rollouts(reports_dir, unreadable)
    also = f"; unreadable: {', '.join(map(str, unreadable))}" if unreadable else ""
    if not found:
        raise RolloutRefused(f"no rollouts under {reports_dir / ROLLOUTS_DIR}{also}")
    if rollout_id is not None:
        for path, state in found:
            if state.id == rollout_id:
                return path, state
        newest = ", ".join(s.id for _, s in found[:5])
        raise RolloutRefused(f"no rollout {rollout_id!r}; newest: {newest}{also}")
    if env_name is None:
        raise RolloutRefused("name the rollout: --env NAME (its newest rollout) or --id ID")
    env_name = Path(env_name).stem if env_name.endswith(".toml") else env_name
    mine = [(p, s) for p, s in found if s.environment == env_name]
    if unfinished:
        mine = [(p, s) for p, s in mine if not s.finished]
        if len(mine) > 1:
            listing = ", ".join(f"{s.id} ({s.plan}, {s.status})" for _, s in mine)
            raise RolloutRefused(
                f"{len(mine)} unfinished rollouts of {env_name!r}: {listing}; pick one with --id"
            )
    if not mine:
        what = "unfinished rollout" if unfinished else "rollout"
        raise RolloutRefused(
            f"no {what} of environment {env_name!r} under {reports_dir / ROLLOUTS_DIR}{also}"
        )
    return mine[0]


def _same(value: str, wanted: str | None, what: str) -> str:
    """`value`, if it is the one the rollout started with (the state keeps its digest)."""
    if digest(value) != wanted:
        raise RolloutRefused(f"{what} is not the one this rollout started with")
    return value


@dataclass(frozen=True)
class RolloutRef:
    """An existing rollout as the command line names it (`--env` or `--id`), with the files
    and values it may be given again."""

    env_name: str | None
    rollout_id: str | None
    reports_dir: Path
    plan_path: Path | None = None
    base_url: str | None = None
    release_version: str | None = None


def reopen(ref: RolloutRef, *, to_roll_back: bool, warn: Callable[[str], None]) -> RolloutContext:
    """An unfinished rollout (`find_rollout`) with its environment, plan and target again, to
    resume it or, `to_roll_back`, abort it. The environment and plan files can be given anew
    (another checkout path); the plan must be the one it started with, except to roll back
    (abort, or a rollback that failed), when its current rollback command is used (and `warn`
    says so)."""
    folder, state = find_rollout(ref.env_name, ref.rollout_id, ref.reports_dir, unfinished=True)
    env_name, plan_path, base_url = ref.env_name, ref.plan_path, ref.base_url
    release_version = ref.release_version
    allow_changed_plan = to_roll_back or state.status in ("rolling_back", "rollback_failed")
    env = load_environment(env_name if env_name and env_name.endswith(".toml") else state.env_file)
    if env.name != state.environment:
        raise RolloutRefused(
            f"{env.path} is environment {env.name!r}, not this rollout's {state.environment!r}"
        )
    plan: RolloutPlan = load_plan(plan_path or Path(state.plan_file))
    if plan.digest != state.plan_digest:
        if not allow_changed_plan:
            raise ConfigError(
                [
                    f"{plan.path}: the plan changed since rollout {state.id} started; a rollout"
                    " follows the plan it started with: restore the file, or `releasegate"
                    f" rollout abort --id {state.id}` and start a new one"
                ]
            )
        warn(
            f"{plan.path} changed since rollout {state.id} started; only its rollback command"
            " is used"
        )
    if base_url is not None:
        target = _same(rollout_target(env, base_url), state.base_url_sha256, "--base-url")
    elif MASK not in state.base_url:
        target = state.base_url
    else:  # a secret target (from a ${VAR}): the environment gives it again
        target = _same(
            rollout_target(env, None), state.base_url_sha256, "the environment's base_url"
        )
    if release_version is not None:
        version: str | None = _same(
            release_version, state.release_version_sha256, "--release-version"
        )
    elif state.release_version is not None and MASK in state.release_version:
        raise RolloutRefused(
            "this rollout's release version is a secret (masked in its state): pass it again"
        )
    else:
        version = state.release_version
    return RolloutContext(env, plan, state, folder, ref.reports_dir, target, version)


def notify_outcome(env: Environment, state: RolloutState) -> NotificationRecord | None:
    """The rollout's outcome to the environment's webhook (the gates' own runs do not send),
    under its `[notify] on` filter; None when nothing was sent."""
    config = env.model.notify
    verdict = STATUS_VERDICT[state.status]
    if config.webhook_url is None or state.status == "running" or verdict.name not in config.on:
        return None
    text = f"releasegate rollout {state.plan} on {state.environment}: {state.status.upper()}"
    if state.reason:
        text += f": {state.reason}"
    payload: dict[str, object] = (
        {"text": text}
        if config.format == "slack"
        else {
            "event": "rollout",
            "rollout_id": state.id,
            "environment": state.environment,
            "plan": state.plan,
            "status": state.status,
            "verdict": verdict.name,
            "release_version": state.release_version,
            "stages": {s.name: s.status for s in state.stages},
            "reason": state.reason,
        }
    )
    return notify(config, payload, env.redactor)
