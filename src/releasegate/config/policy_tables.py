"""`[policy]`, `[rollback]` and `[notify]`: how evidence turns into a verdict, and what is done
with the verdict (the rollback command, the webhook)."""

from __future__ import annotations

from typing import Literal, cast

from pydantic import Field, model_validator

from releasegate.config.strict_base import Command, HttpUrl, Seconds, StrictModel
from releasegate.outcome import Verdict, VerdictName
from releasegate.stages import STAGES, Stage


class PolicyConfig(StrictModel):
    """How evidence turns into a verdict (recorded in results.json, so `decide` needs no file)."""

    on_inconclusive: Literal["hold", "rollback"] = "hold"
    # stages whose failures decide; the others are measured and shown ("dry run")
    blocking_stages: list[Stage] = Field(default_factory=lambda: list(STAGES))
    # check ids (shell-style patterns) that never vote, e.g. "*test_page[/blog]"
    advisory_checks: list[str] = Field(default_factory=list)
    # stages that must have results in every run, whether or not they were asked for
    required_stages: list[Stage] = Field(default_factory=list)
    # failed blocking checks a stage may have before it fails the release (Argo's failureLimit)
    max_failed: dict[Stage, int] = Field(default_factory=dict)
    # a failed check is run again up to this many times; passing on a retry makes it flaky
    retries: int = Field(default=0, ge=0, le=5)
    # flaky checks allowed in a run; more is inconclusive (never silently green)
    max_flaky: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _limits_are_not_negative(self) -> PolicyConfig:
        negative = {stage: n for stage, n in self.max_failed.items() if n < 0}
        if negative:
            raise ValueError(f"max_failed must be >= 0 per stage (got {negative})")
        return self


def _every_verdict() -> list[VerdictName]:
    return [cast(VerdictName, verdict.name) for verdict in Verdict]


class RollbackConfig(StrictModel):
    """What to run when the verdict is ROLLBACK (only with --execute-rollback)."""

    command: Command | None = None
    on_hold: Command | None = None
    timeout: Seconds = 300.0
    cwd: str | None = None


class NotifyConfig(StrictModel):
    """Where to send the verdict. Failures are recorded and never change it."""

    webhook_url: HttpUrl | None = None
    format: Literal["slack", "json"] = "json"
    timeout: Seconds = 10.0
    retries: int = Field(default=2, ge=0, le=5)
    on: list[VerdictName] = Field(default_factory=_every_verdict)
    report_url: str | None = None  # where the published site lives, for links
