"""The rollout engine: stage by stage, change traffic, soak, gate, then promote, roll back or hold.

The state is written (atomically) before and after every step that has an effect, so a rollout
cut off anywhere (Ctrl-C, a lost machine) resumes at the right place:

- a stage whose traffic command was cut off is held: the split is unknown, and running the
  command again is the operator's call (`rollout resume --retry-traffic`);
- a stage cut off while soaking or gating soaks and gates again: a gate is never skipped;
- a stage that was promoted is never run again; the rollback runs at most once per rollout,
  unless it was cut off or failed, when `resume` runs it again (rollback commands must be safe
  to repeat).

The engine only decides; what a step does is given as `Actions`, so it is tested with fakes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    WithJsonSchema,
)

from releasegate.documents import read_document
from releasegate.errors import RolloutError, StateUnreadable
from releasegate.evidence.results import write_atomically
from releasegate.ops.rollout.plan import PlanStage, RolloutPlan, slug
from releasegate.outcome import Verdict, VerdictName
from releasegate.redact import Redactor

SCHEMA = "releasegate.rollout/1"
STATE_FILE = "state.json"
ROLLOUTS_DIR = "rollouts"


def _verdict(value: object) -> Verdict:
    return value if isinstance(value, Verdict) else Verdict.parse(str(value))


# A verdict in state.json: written as its name ("GO"), as it always was
VerdictWord = Annotated[
    Verdict,
    PlainValidator(_verdict),
    PlainSerializer(lambda verdict: verdict.name, return_type=str),
    WithJsonSchema(TypeAdapter(VerdictName).json_schema()),
]
# pending -> traffic -> soak -> gates -> promoted | held | rolled_back; not_run after a rollback
StageStatus = Literal["pending", "traffic", "soak", "gates", "promoted", "held", "rolled_back"]
RolloutStatus = Literal[
    "running", "interrupted", "held", "completed", "rolling_back", "rolled_back",
    "rollback_failed", "aborted",
]  # fmt: skip
FINISHED: frozenset[RolloutStatus] = frozenset({"completed", "rolled_back", "aborted"})
# The verdict a rollout's status amounts to (the page's colour, `[notify] on`)
STATUS_VERDICT: dict[RolloutStatus, Verdict] = {
    "completed": Verdict.GO,
    "rolled_back": Verdict.ROLLBACK,
    "rollback_failed": Verdict.ROLLBACK,
    "aborted": Verdict.ROLLBACK,
    "rolling_back": Verdict.HOLD,
    "held": Verdict.HOLD,
    "interrupted": Verdict.HOLD,
    "running": Verdict.HOLD,
}
# A stage's soak and gates combined: downtime or a failed gate outweighs missing evidence
_SEVERITY = (Verdict.GO, Verdict.HOLD, Verdict.ROLLBACK)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommandRecord(_Model):
    """One run of a user command (traffic or rollback), its output in `log`."""

    command: str  # as shown: redacted
    exit_code: int | None = None  # None: could not start, or cut off
    timed_out: bool = False
    duration_s: float = 0.0
    started_at: str = Field(default_factory=_now)
    log: str = ""  # path relative to the rollout folder
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def failure(self) -> str:
        if self.timed_out:
            return f"`{self.command}` timed out after {self.duration_s:g}s"
        if self.exit_code is None:
            return f"`{self.command}` did not run: {self.error or 'cut off'}"
        return f"`{self.command}` exited {self.exit_code}"


class SoakRecord(_Model):
    """The probes of one soak, judged like a deploy watch."""

    verdict: VerdictWord
    message: str
    probes: int = 0
    failed: int = 0
    duration_s: float = 0.0
    started_at: str = Field(default_factory=_now)
    file: str = ""  # the timeline, relative to the rollout folder


class GateRecord(_Model):
    """One `releasegate run` of the stage's gates."""

    run_id: str
    gates: list[str]
    verdict: VerdictWord
    exit_code: int | None
    message: str
    duration_s: float = 0.0
    started_at: str = Field(default_factory=_now)
    log: str = ""


class StageState(_Model):
    name: str
    percent: float | None = None
    status: StageStatus = "pending"
    traffic: CommandRecord | None = None
    soaks: list[SoakRecord] = Field(default_factory=list)
    gates: list[GateRecord] = Field(default_factory=list)
    verdict: VerdictWord | None = None
    reason: str = ""
    attempts: int = 0  # soak-and-gate attempts started (counted before each starts: unique ids)
    started_at: str | None = None
    ended_at: str | None = None


class Event(_Model):
    at: str = Field(default_factory=_now)
    stage: str | None = None
    kind: str
    message: str


class RolloutState(_Model):
    """Everything about one rollout, as written to reports/rollouts/<id>/state.json."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str = Field(default=SCHEMA, alias="schema")
    id: str
    environment: str
    env_file: str
    plan: str
    plan_file: str
    plan_digest: str
    base_url: str  # as shown: a secret part is masked (resume gets the value again, see below)
    base_url_sha256: str  # the real target, to check the one given on resume is the same
    release_version: str | None = None  # as shown
    release_version_sha256: str | None = None
    suites: str = "suites"
    status: RolloutStatus = "running"
    current: int = 0  # index of the stage being worked on (len(stages) when all promoted)
    baseline: Literal["pending", "taken", "skipped"] = "pending"
    baseline_file: str | None = None
    stages: list[StageState]
    rollback: CommandRecord | None = None
    rollback_attempts: int = 0
    reason: str = ""
    events: list[Event] = Field(default_factory=list)
    started_at: str = Field(default_factory=_now)
    updated_at: str = Field(default_factory=_now)

    def to_json(self, redactor: Redactor | None = None) -> str:
        text = self.model_dump_json(indent=1, by_alias=True)
        return redactor.redact(text) if redactor else text

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def stage_named(self, name: str) -> StageState:
        return next(s for s in self.stages if s.name == name)


def read_state(path: Path) -> RolloutState:
    raw = read_document(path, SCHEMA, StateUnreadable)
    try:
        return RolloutState.model_validate(raw)
    except ValueError as exc:
        raise StateUnreadable(f"{path}: unexpected content: {exc}") from None


def digest(value: str | None) -> str | None:
    """SHA-256 of a value the state must not hold in clear (a target URL from a ${VAR})."""
    return hashlib.sha256(value.encode()).hexdigest() if value is not None else None


def new_state(
    rollout_id: str,
    plan: RolloutPlan,
    *,
    environment: str,
    env_file: Path,
    base_url: str,
    release_version: str | None,
    suites: Path,
) -> RolloutState:
    """The state of a rollout about to start. `base_url` and `release_version` are the real
    values: the state keeps their digests, and the saver masks the values themselves."""
    return RolloutState(
        id=rollout_id,
        environment=environment,
        env_file=str(env_file.resolve()),
        plan=plan.name,
        plan_file=str(plan.path.resolve()),
        plan_digest=plan.digest,
        base_url=base_url,
        base_url_sha256=digest(base_url) or "",
        release_version=release_version,
        release_version_sha256=digest(release_version),
        suites=str(suites.resolve()),
        baseline="pending" if plan.settings.baseline else "skipped",
        stages=[StageState(name=s.name, percent=s.percent) for s in plan.stages],
    )


@dataclass(frozen=True)
class Actions:
    """What each step does. `attempt` counts from 1 within a stage (soak and gates again after a
    HOLD); the real ones are `releasegate.ops.rollout.steps.real_actions`, tests give fakes."""

    traffic: Callable[[int, PlanStage], CommandRecord]
    soak: Callable[[int, PlanStage, int], SoakRecord | None]  # None: the stage has no soak
    gates: Callable[[int, PlanStage, int], GateRecord]
    rollback: Callable[[], CommandRecord]
    baseline: Callable[[], tuple[str | None, str]]  # (file, message); no file: not taken


def worst(*verdicts: Verdict) -> Verdict:
    return max(verdicts, key=_SEVERITY.index)


class Rollout:
    """Drives one rollout's state through its plan with the given actions."""

    def __init__(
        self,
        state: RolloutState,
        plan: RolloutPlan,
        actions: Actions,
        save: Callable[[RolloutState], None],
        say: Callable[[Event], None] = lambda event: None,
    ) -> None:
        self.state = state
        self.plan = plan
        self.actions = actions
        self._save = save
        self._say = say

    # --- bookkeeping ---------------------------------------------------------------------

    def _event(self, kind: str, message: str, stage: StageState | None = None) -> None:
        event = Event(kind=kind, message=message, stage=stage.name if stage else None)
        self.state.events.append(event)
        self.save()
        self._say(event)

    def save(self) -> None:
        self.state.updated_at = _now()
        self._save(self.state)

    def _hold(self, stage: StageState | None, reason: str) -> RolloutStatus:
        """HOLD: wait for `resume`/`abort`, or roll back when the plan says so."""
        if self.plan.settings.on_hold == "rollback":
            self._event("hold", f"HOLD: {reason}; the plan rolls back on HOLD", stage)
            return self._roll_back(stage, reason)
        if stage is not None:
            if stage.status != "traffic":  # a traffic hold stays one: resume must not skip it
                stage.status = "held"
            stage.verdict = Verdict.HOLD
            stage.reason = reason
        self.state.status = "held"
        self.state.reason = reason
        self._event("hold", f"HOLD: {reason}", stage)
        return self.state.status

    def _roll_back(self, stage: StageState | None, reason: str) -> RolloutStatus:
        if stage is not None:
            stage.status = "rolled_back"
            stage.verdict = Verdict.ROLLBACK if stage.verdict is None else stage.verdict
            stage.reason = stage.reason or reason
            stage.ended_at = _now()
        self.state.reason = reason
        return self._run_rollback()

    def _run_rollback(self) -> RolloutStatus:
        # written before the command runs: a rollback cut off shows as rolling_back and resume
        # runs it again rather than promoting anything
        self.state.status = "rolling_back"
        self.state.rollback_attempts += 1
        self._event("rollback", f"rolling back: {self.state.reason}")
        record = self.actions.rollback()
        self.state.rollback = record
        if record.ok:
            self.state.status = "rolled_back"
            self._event("rollback", f"rollback command ran: {record.command} (exit 0)")
        else:
            self.state.status = "rollback_failed"
            self._event(
                "rollback",
                f"ROLLBACK COMMAND FAILED: {record.failure()}; fix it, then `rollout resume`"
                " runs it again",
            )
        return self.state.status

    # --- the run -------------------------------------------------------------------------

    def run(self, *, retry_traffic: bool = False) -> RolloutStatus:
        """Go on from wherever the state is; return where it stopped. Ctrl-C marks the state
        interrupted (saved) and propagates."""
        if self.state.finished:
            return self.state.status
        try:
            return self._run(retry_traffic)
        except KeyboardInterrupt:
            self._stopped("interrupted: `releasegate rollout resume` goes on")
            raise
        except RolloutError:
            raise  # refused before anything ran
        except Exception as exc:  # a step failed in an unforeseen way: keep the state honest
            self._stopped(f"stopped by an error: {type(exc).__name__}: {exc}")
            raise

    def _stopped(self, message: str) -> None:
        if self.state.status == "running":
            self.state.status = "interrupted"
        self._event("interrupted", message)

    def _run(self, retry_traffic: bool) -> RolloutStatus:
        if self.state.status in ("rolling_back", "rollback_failed"):
            return self._run_rollback()
        if [s.name for s in self.plan.stages] != [s.name for s in self.state.stages]:
            raise RolloutError(
                f"the plan's stages ({', '.join(s.name for s in self.plan.stages)}) are not the"
                f" rollout's ({', '.join(s.name for s in self.state.stages)})"
            )
        self.state.status = "running"
        self.state.reason = ""
        self.save()
        if self.state.baseline == "pending":
            file, message = self.actions.baseline()
            if file is None:
                return self._hold(
                    None, f"could not take the baseline before the first stage: {message}"
                )
            self.state.baseline, self.state.baseline_file = "taken", file
            self._event("baseline", message)
        while self.state.current < len(self.state.stages):
            index = self.state.current
            outcome = self._stage(index, retry_traffic)
            retry_traffic = False  # only for the stage that was cut off
            if outcome is not None:
                return outcome
            self.state.current = index + 1
            self.save()
        self.state.status = "completed"
        self._event("completed", f"all {len(self.state.stages)} stages promoted")
        return self.state.status

    def _stage(self, index: int, retry_traffic: bool) -> RolloutStatus | None:
        """Run stage `index` from where it is; None when it was promoted."""
        stage = self.state.stages[index]
        spec = self.plan.stages[index]
        if stage.status == "promoted":
            return None
        if stage.status == "traffic" and not retry_traffic:
            return self._hold(stage, _traffic_unknown(stage))
        if stage.status == "traffic":
            self._event("traffic", "running the traffic command again (--retry-traffic)", stage)
        if stage.status in ("pending", "traffic") and not self._change_traffic(index, stage, spec):
            return self._hold(stage, _traffic_unknown(stage))
        return self._soak_and_gate(index, stage, spec)

    def _change_traffic(self, index: int, stage: StageState, spec: PlanStage) -> bool:
        stage.status = "traffic"
        stage.started_at = stage.started_at or _now()
        stage.traffic = None
        share = f" to {spec.percent:g} %" if spec.percent is not None else ""
        self._event("traffic", f"stage {index + 1}/{len(self.state.stages)}: traffic{share}", stage)
        record = self.actions.traffic(index, spec)
        stage.traffic = record
        if not record.ok:
            self._event("traffic", f"traffic command failed: {record.failure()}", stage)
            return False
        stage.status = "soak"
        self._event("traffic", f"traffic changed: {record.command} ({record.duration_s:g}s)", stage)
        return True

    def _soak_and_gate(
        self, index: int, stage: StageState, spec: PlanStage
    ) -> RolloutStatus | None:
        stage.attempts += 1
        attempt = stage.attempts
        stage.status = "soak"
        stage.verdict, stage.reason = None, ""
        self.save()
        soak = self.actions.soak(index, spec, attempt)
        if soak is not None:
            stage.soaks.append(soak)
            self._event("soak", f"soak {soak.verdict.name}: {soak.message}", stage)
            if soak.verdict is Verdict.ROLLBACK:  # downtime while soaking: no gate can undo that
                stage.verdict, stage.reason = Verdict.ROLLBACK, f"soak: {soak.message}"
                return self._roll_back(stage, f"stage {stage.name}: downtime while soaking")
        stage.status = "gates"
        self.save()
        gate = self.actions.gates(index, spec, attempt)
        stage.gates.append(gate)
        self._event(
            "gates", f"gates {'+'.join(gate.gates)}: {gate.verdict.name}: {gate.message}", stage
        )
        verdicts: list[Verdict] = [gate.verdict] + ([soak.verdict] if soak else [])
        verdict = worst(*verdicts)
        reasons = [f"gates: {gate.message}"] + ([f"soak: {soak.message}"] if soak else [])
        if verdict is Verdict.GO:
            stage.status, stage.verdict, stage.reason = "promoted", Verdict.GO, ""
            stage.ended_at = _now()
            self._event("promoted", f"stage {stage.name} promoted", stage)
            return None
        if verdict is Verdict.ROLLBACK:
            stage.verdict, stage.reason = Verdict.ROLLBACK, "; ".join(reasons)
            return self._roll_back(stage, f"stage {stage.name}: the gates said ROLLBACK")
        return self._hold(stage, f"stage {stage.name}: {'; '.join(reasons)}")

    def abort(self, *, roll_back: bool = True) -> RolloutStatus:
        """Stop for good: run the rollback command (unless told not to), mark it aborted."""
        if self.state.finished:
            return self.state.status
        current = (
            self.state.stages[self.state.current]
            if self.state.current < len(self.state.stages)
            else None
        )
        self.state.reason = "aborted by the operator"
        if roll_back:
            try:
                status = self._run_rollback()
            except KeyboardInterrupt:
                self._event("interrupted", "abort interrupted while rolling back: run it again")
                raise
            if status == "rollback_failed":
                return status
        self.state.status = "aborted"
        if current is not None and current.status not in ("promoted", "pending"):
            current.ended_at = _now()
        self._event("aborted", "rollout aborted" + (" and rolled back" if roll_back else ""))
        return self.state.status


def _traffic_unknown(stage: StageState) -> str:
    what = f"failed: {stage.traffic.failure()}" if stage.traffic else "was cut off"
    return (
        f"the traffic command of stage {stage.name} {what}; the traffic split is unknown:"
        " check it, then `releasegate rollout resume --retry-traffic` runs the command again"
        " (or `releasegate rollout abort`)"
    )


def state_saver(path: Path, redactor: Redactor) -> Callable[[RolloutState], None]:
    def save(state: RolloutState) -> None:
        write_atomically(path, state.to_json(redactor))

    return save


def stage_folder(index: int, name: str) -> str:
    """`02-10-percent`: stage folders sort in plan order."""
    return f"{index + 1:02d}-{slug(name)}"


def find_rollouts(
    reports_dir: Path, unreadable: list[Path] | None = None
) -> list[tuple[Path, RolloutState]]:
    """Every readable rollout under reports/rollouts, newest first; the state files that
    cannot be read are added to `unreadable` (for the caller to name)."""
    base = reports_dir / ROLLOUTS_DIR
    found: list[tuple[Path, RolloutState]] = []
    if not base.is_dir():
        return found
    for path in base.glob(f"*/{STATE_FILE}"):
        try:
            found.append((path.parent, read_state(path)))
        except StateUnreadable:
            if unreadable is not None:
                unreadable.append(path)
    return sorted(found, key=lambda item: (item[1].started_at, item[1].id), reverse=True)


def summary_json(state: RolloutState) -> str:
    """A one-object summary for scripts (`rollout status --json`)."""
    return json.dumps(
        {
            "id": state.id,
            "environment": state.environment,
            "plan": state.plan,
            "status": state.status,
            "stage": state.stages[state.current].name
            if state.current < len(state.stages)
            else None,
            "stages": {s.name: s.status for s in state.stages},
            "reason": state.reason,
        }
    )
