"""decision.json: the verdict, every reason with its evidence, and what the verdict set in
motion. Versioned (`DECISION_SCHEMA`), documented in docs/decision-json.md. It answers the
question operators of Argo Rollouts and Flagger keep asking: why did it roll back?"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from releasegate.evidence.decide import Decision, Reason
from releasegate.evidence.results import Measurement, Results, now, write_atomically
from releasegate.redact import Redactor

DECISION_SCHEMA = "releasegate.decision/1"
DECISION_FILE = "decision.json"


class HookRecord(BaseModel):
    """One run (or non-run) of a hook."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    command: str
    executed: bool
    reason: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float | None = None
    started_at: str | None = None
    output: str = ""

    @property
    def failed(self) -> bool:
        return self.executed and (self.timed_out or self.exit_code != 0)


class NotificationRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    format: str
    delivered: bool
    status: int | None = None
    attempts: int = 0
    error: str = ""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasonRecord(_Model):
    rule: str
    message: str
    check: str | None = None
    # the check's title, what a person reads (None for evidence written before titles)
    title: str | None = None
    stage: str | None = None
    measurements: list[Measurement] = Field(default_factory=list)


class StageRecord(_Model):
    stage: str
    verdict: str
    blocking: bool
    counts: dict[str, int]
    failed_allowed: int
    flaky: int


class RunRecord(_Model):
    id: str | None
    environment: str | None
    target_url: str | None
    release_version: str | None
    started_at: datetime | None
    finished_at: datetime | None
    stages_requested: list[str]
    status: str | None


class EvidenceRecord(_Model):
    complete: bool
    results_file: str
    readable: bool
    counts: dict[str, int]


class ActionsRecord(_Model):
    rollback: HookRecord | None = None
    on_hold: HookRecord | None = None
    notifications: list[NotificationRecord] = Field(default_factory=list)
    step_summary: bool = False


class DecisionRecord(_Model):
    schema_: str = Field(default=DECISION_SCHEMA, alias="schema")
    verdict: str
    exit_code: int
    decided_at: datetime
    run: RunRecord
    evidence: EvidenceRecord
    policy: dict[str, Any]
    stages: list[StageRecord]
    reasons: list[ReasonRecord]
    warnings: list[ReasonRecord]
    actions: ActionsRecord = Field(default_factory=ActionsRecord)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _reason(reason: Reason) -> ReasonRecord:
    return ReasonRecord(
        rule=reason.rule,
        message=reason.message,
        check=reason.check,
        title=reason.title,
        stage=reason.stage,
        measurements=list(reason.measurements),
    )


def build_record(
    decision: Decision, results: Results | None, run_dir: Path, actions: ActionsRecord
) -> DecisionRecord:
    run = results.run if results else None
    return DecisionRecord(
        verdict=decision.verdict.name,
        exit_code=int(decision.verdict),
        decided_at=now(),
        run=RunRecord(
            id=run.id if run else run_dir.name,
            environment=run.environment if run else None,
            target_url=run.target_url if run else None,
            release_version=run.release_version if run else None,
            started_at=run.started_at if run else None,
            finished_at=run.finished_at if run else None,
            stages_requested=list(run.stages_requested) if run else [],
            status=run.status if run else None,
        ),
        evidence=EvidenceRecord(
            complete=decision.complete,
            results_file=str(run_dir / "results.json"),
            readable=results is not None,
            counts=dict(decision.counts),
        ),
        policy=decision.policy.model_dump(),
        stages=[
            StageRecord(
                stage=s.stage,
                verdict=s.verdict.name,
                blocking=s.blocking,
                counts=s.counts,
                failed_allowed=s.failed_allowed,
                flaky=s.flaky,
            )
            for s in decision.stages
        ],
        reasons=[_reason(r) for r in decision.reasons],
        warnings=[_reason(w) for w in decision.warnings],
        actions=actions,
    )


def write_decision(run_dir: Path, record: DecisionRecord, redactor: Redactor) -> Path:
    """Write decision.json atomically, masking any secret that reached a field on its way."""
    path = run_dir / DECISION_FILE
    text = record.model_dump_json(by_alias=True, indent=2) + "\n"
    write_atomically(path, redactor.redact(text))
    return path
