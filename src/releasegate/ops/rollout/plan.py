"""Rollout plans: `rollout.toml` -> a validated, frozen `RolloutPlan`.

A plan is a list of stages (internal team, 10 %, 50 %, 100 %...). Each stage runs the user's
traffic command (a feature flag, a load-balancer weight, `kubectl`, a PaaS CLI), soaks while
probing the target, then runs gates; the plan also names the rollback command. The plan's digest
is kept in the rollout's state, so a resumed rollout refuses a plan that changed under it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from releasegate.config import Command, Seconds, SecondsOrZero, StrictModel, validation_problems
from releasegate.errors import ConfigError
from releasegate.stages import Stage

OnHold = Literal["wait", "rollback"]


def _stage_name(value: object) -> object:
    """Gates are written as the CLI writes them (`post-deploy`) or as markers (`post_deploy`)."""
    return value.replace("-", "_") if isinstance(value, str) else value


GateName = Annotated[Stage, BeforeValidator(_stage_name)]


def _smoke() -> list[Stage]:
    return ["smoke"]


def _not_empty(command: Command, key: str) -> None:
    if (isinstance(command, str) and not command.strip()) or (
        isinstance(command, list) and (not command or not command[0])
    ):
        raise ValueError(f"{key} must be a non-empty command (a shell string or an argv list)")


class PlanStage(StrictModel):
    """One traffic step: change traffic, soak while probing, then run the gates."""

    name: str = Field(min_length=1, max_length=64)
    traffic: Command
    traffic_timeout: Seconds = 120.0
    percent: float | None = Field(default=None, ge=0, le=100)  # for the page and $RELEASEGATE_*
    soak: SecondsOrZero = 300.0  # 0: gates only, no soak
    gates: list[GateName] = Field(default_factory=_smoke, min_length=1)

    @model_validator(mode="after")
    def _commands(self) -> PlanStage:
        _not_empty(self.traffic, "traffic")
        return self


class RolloutSettings(StrictModel):
    """Plan-wide settings: what HOLD does, the rollback command, the baseline."""

    description: str = ""
    rollback: Command
    rollback_timeout: Seconds = 300.0
    gates_timeout: Seconds = 1800.0  # one stage's gate run is stopped (HOLD) past this
    on_hold: OnHold = "wait"  # wait for `rollout resume` / `abort`, or roll back at once
    baseline: bool = True  # take the SLO gate's baseline before the first stage
    cwd: str | None = None  # where commands run, relative to the plan file (default: its folder)
    stages: list[PlanStage] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RolloutSettings:
        _not_empty(self.rollback, "rollback")
        names = [s.name for s in self.stages]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"stage names must be unique; repeated: {repeated}")
        percents = [s.percent for s in self.stages if s.percent is not None]
        if percents != sorted(percents):
            raise ValueError(f"stage percents must not go down (got {percents})")
        return self


_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    """A name usable in a folder or run id: `50 %` -> `50`, `EU canary` -> `EU-canary`."""
    return _SLUG.sub("-", text).strip("-._")[:40] or "stage"


class RolloutPlan:
    """A loaded plan: its name (the file's stem), where it is, its settings, and its digest."""

    def __init__(self, name: str, path: Path, settings: RolloutSettings, digest: str) -> None:
        self.name = name
        self.path = path
        self.settings = settings
        self.digest = digest

    @property
    def stages(self) -> list[PlanStage]:
        return self.settings.stages

    @property
    def cwd(self) -> Path:
        base = self.path.resolve().parent
        return base / self.settings.cwd if self.settings.cwd else base


def load_plan(path: Path) -> RolloutPlan:
    """Read and validate a plan; every problem is a `ConfigError` naming the file and key."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the rollout plan: {exc.strerror}"]) from None
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: TOML syntax error: {exc}"]) from None
    try:
        settings = RolloutSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, str(path), RolloutSettings)) from None
    return RolloutPlan(slug(path.stem), path, settings, hashlib.sha256(content).hexdigest())
