"""results.json: the evidence a gate run leaves behind, and the only input of the decision.

The pytest plugin feeds test-phase reports into a `ResultsBuilder` (on the xdist controller,
so the reports of every worker meet there) and writes the document atomically at the start of
the run, while it runs and at its end. `read_results` validates a file for `decide`.
The schema is versioned (`SCHEMA`) and documented in docs/results-json.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate.outcome import Comparison
from releasegate.stages import STAGES, Stage

SCHEMA = "releasegate.results/1"
RESULTS_FILE = "results.json"

Outcome = Literal["passed", "failed", "error", "skipped"]
RunStatus = Literal["running", "finished", "interrupted"]

# What made a check end as it did: the target found wrong, or the gate unable to measure.
CAUSE_PRODUCT = "product"
CAUSE_INCONCLUSIVE = "inconclusive"
CAUSE_SETUP = "setup"
CAUSE_CRASH = "crash"
# The target could not be reached at all (refused, reset, DNS, connect timeout, after retries):
# a product failure only when the run holds evidence that it answered before (see `decide`).
CAUSE_UNREACHABLE = "unreachable"
# Evidence found, but too old or of another target: no evidence
CAUSE_STALE = "stale"

# The stage of a check collected without a stage marker: it counts, and blocks by default.
UNSTAGED = "unstaged"
CheckStage = Stage | Literal["unstaged"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measurement(_Model):
    """A value a check measured, with the threshold it was held to."""

    name: str
    value: float | str | None
    unit: str = ""
    threshold: float | str | list[int] | None = None
    comparison: Comparison | None = None
    samples: int | None = None
    source: str | None = None
    window: str | None = None  # what the samples span: "5m" in Prometheus, "4.7s" of sampling
    # one of a series of measurements ([[metrics]]): when it was taken (ISO 8601, UTC), its
    # outcome (success, failure, inconclusive, error) and the provider's or judge's line
    at: str | None = None
    outcome: str | None = None
    note: str | None = None


class CheckResult(_Model):
    """One test of a gate suite, all its phases (setup, call, teardown) folded into one."""

    id: str
    # what a person reads: the docstring's first sentence, parametrization filled in
    # (`releasegate.titles`); None in files written before titles existed
    title: str | None = None
    stage: CheckStage | None  # None in files written before 0.2: read as "unstaged"
    outcome: Outcome
    cause: str | None = None
    blocking: bool = True
    measurements: list[Measurement] = Field(default_factory=list)
    duration_s: float = 0.0
    artefacts: list[str] = Field(default_factory=list)
    message: str = ""
    worker: str | None = None
    attempts: int = 1
    flaky: bool = False


class Reachability(_Model):
    """Whether the run holds evidence that this runner's network works (the target answered
    earlier in the run or in a baseline, or the canary answers now): recorded when a check found
    the target unreachable, so `decide` needs only files."""

    evidence: str | None = None  # that the network works and the target is down, in words
    looked_at: list[str] = Field(default_factory=list)  # what was looked for, in words


class RunInfo(_Model):
    """What was run, against what, and whether the run finished."""

    id: str
    environment: str
    # the environment file the run loaded: `report build` loads it again for its secrets
    environment_file: str | None = None
    target_url: str | None
    release_version: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    tool_version: str
    stages_requested: list[Stage]
    status: RunStatus = "running"
    complete: bool = False
    pytest_exit_status: int | None = None
    collected: int | None = None
    workers: int = 0
    policy: dict[str, Any] = Field(default_factory=dict)
    reachability: Reachability | None = None


class Results(_Model):
    """The whole document."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    run: RunInfo
    checks: list[CheckResult] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"


class EvidenceError(Exception):
    """results.json is missing, truncated, or not a document this version understands."""


def now() -> datetime:
    return datetime.now(UTC)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_results(run_dir: Path) -> Results:
    """Read and validate `run_dir/results.json`; `EvidenceError` says what is wrong with it."""
    path = run_dir / RESULTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvidenceError(f"{path}: no results.json: the run left no evidence") from None
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"{path}: not valid JSON (truncated?): {exc}") from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema != SCHEMA:
        raise EvidenceError(f"{path}: schema {schema!r} is not {SCHEMA!r}")
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvidenceError(f"{path}: {where}: {first['msg']}") from None


@dataclass
class Phase:
    """What one phase report of one test says, already classified by the worker that ran it."""

    nodeid: str
    when: str  # setup | call | teardown, or "???" for a report xdist makes for a crashed worker
    outcome: str  # pytest's: passed | failed | skipped
    duration: float = 0.0
    stage: str | None = None
    blocking: bool = True
    cause: str | None = None
    message: str = ""
    measurements: list[dict[str, Any]] = field(default_factory=list)
    artefacts: list[str] = field(default_factory=list)
    worker: str | None = None
    title: str | None = None


def _fold(all_phases: list[Phase]) -> CheckResult:
    """One test's phases -> one check: the first phase that did not pass decides the outcome.

    Attempts that pytest-rerunfailures retried ("rerun") are counted, not judged: a check that
    passes on a retry is *flaky*, which the policy limits.
    """
    first = all_phases[0]
    retried = [p for p in all_phases if p.outcome == "rerun"]
    phases = [p for p in all_phases if p.outcome != "rerun"] or retried
    outcome: Outcome = "passed"
    cause: str | None = None
    message = ""
    for phase in phases:
        if phase.outcome == "passed":
            continue
        if phase.outcome == "skipped":
            if outcome == "passed":
                outcome, message = "skipped", phase.message
            continue
        # failed: in the call phase of an assertion it is the product; anywhere else, or with
        # any other exception, the gate could not measure
        if phase.when == "call" and phase.cause == CAUSE_PRODUCT:
            if outcome in ("passed", "skipped"):
                outcome, cause, message = "failed", CAUSE_PRODUCT, phase.message
        elif outcome != "error":
            outcome, message = "error", phase.message
            if phase.when == "???":
                cause = CAUSE_CRASH
            elif phase.when == "call" or phase.cause in (CAUSE_UNREACHABLE, CAUSE_STALE):
                cause = phase.cause or CAUSE_INCONCLUSIVE
            else:
                cause = CAUSE_SETUP
    measurements: list[Measurement] = []
    artefacts: list[str] = []
    for phase in phases:
        measurements += [Measurement.model_validate(m) for m in phase.measurements]
        artefacts += [a for a in phase.artefacts if a not in artefacts]
    stage = next((p.stage for p in phases if p.stage), None)
    return CheckResult(
        id=first.nodeid,
        title=next((p.title for p in all_phases if p.title), None),
        stage=stage if stage in STAGES else UNSTAGED,
        outcome=outcome,
        cause=cause,
        blocking=all(p.blocking for p in phases),
        measurements=measurements,
        duration_s=round(sum(p.duration for p in phases), 6),
        artefacts=artefacts,
        message=message,
        worker=next((p.worker for p in phases if p.worker), None),
        attempts=1 + len([p for p in retried if p.when == "call"]),
        flaky=bool(retried) and outcome == "passed",
    )


@dataclass
class ResultsBuilder:
    """Collects phase reports in any order (xdist interleaves workers) into sorted checks."""

    run: RunInfo
    _phases: dict[str, list[Phase]] = field(default_factory=dict)
    # folded checks, kept until a new phase of that test arrives: results.json is rewritten
    # while tests run, and refolding every test each time grows with the square of the run
    _folded: dict[str, CheckResult] = field(default_factory=dict)

    def add(self, phase: Phase) -> None:
        self._phases.setdefault(phase.nodeid, []).append(phase)
        self._folded.pop(phase.nodeid, None)

    def checks(self) -> list[CheckResult]:
        order = {"setup": 0, "call": 1, "teardown": 2, "???": 3}
        for nodeid, phases in self._phases.items():
            if nodeid not in self._folded:
                self._folded[nodeid] = _fold(sorted(phases, key=lambda p: order.get(p.when, 4)))
        return [self._folded[nodeid] for nodeid in sorted(self._phases)]

    def results(self) -> Results:
        return Results(run=self.run, checks=self.checks())


def stages_in_markexpr(markexpr: str) -> list[str]:
    """The stages a `-m` expression asks for: those named in it, except after `not`."""
    tokens = markexpr.replace("(", " ( ").replace(")", " ) ").split()
    asked: list[str] = []
    for index, token in enumerate(tokens):
        negated = index > 0 and tokens[index - 1] == "not"
        if token in STAGES and not negated and token not in asked:
            asked.append(token)
    return asked
