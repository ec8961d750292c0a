"""A gate run as a subprocess: its command line and the reading of the decision it wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from releasegate.evidence.decision_file import DecisionRecord, EvidenceRecord, RunRecord
from releasegate.ops.gate_run import GateCommand, read_gate_decision
from releasegate.outcome import Verdict


def write_decision(run_dir: Path, run_id: str, verdict: str) -> None:
    record = DecisionRecord(
        verdict=verdict,
        exit_code=int(Verdict.parse(verdict)),
        decided_at=datetime.now(UTC),
        run=RunRecord(
            id=run_id,
            environment="prod",
            target_url=None,
            release_version=None,
            started_at=None,
            finished_at=None,
            stages_requested=["smoke"],
            status="finished",
        ),
        evidence=EvidenceRecord(
            complete=True, results_file="results.json", readable=True, counts={"passed": 3}
        ),
        policy={},
        stages=[],
        reasons=[],
        warnings=[],
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "decision.json").write_text(record.model_dump_json(by_alias=True))


@pytest.mark.parametrize(
    ("decided", "run_id", "exit_code", "expected", "problem"),
    [
        ("GO", "run-1", 0, Verdict.GO, ""),
        ("ROLLBACK", "run-1", 1, Verdict.ROLLBACK, ""),
        ("HOLD", "run-1", 2, Verdict.HOLD, ""),
        (None, "run-1", 1, None, "wrote no decision (exit 1)"),
        ("GO", "run-1", 1, None, "does not match its exit code 1"),
        ("GO", "run-0", 0, None, "run run-0"),
        ("GO", "run-1", None, None, "does not match its exit code None"),
    ],
    ids=["go", "rollback", "hold", "crash", "disagrees", "another-run", "stopped"],
)
def test_a_decision_counts_only_when_it_is_this_runs_and_agrees_with_the_exit(
    tmp_path: Path,
    decided: str | None,
    run_id: str,
    exit_code: int | None,
    expected: Verdict | None,
    problem: str,
) -> None:
    if decided:
        write_decision(tmp_path, run_id, decided)

    decision = read_gate_decision(tmp_path, "run-1", exit_code)

    assert decision.verdict is expected
    assert problem in decision.problem


def test_an_unreadable_decision_is_no_verdict(tmp_path: Path) -> None:
    (tmp_path / "decision.json").write_text("{not json")

    decision = read_gate_decision(tmp_path, "run-1", 0)

    assert decision.verdict is None
    assert "unreadable decision.json" in decision.problem


def test_the_command_line_names_the_release_version_last() -> None:
    """A rollout's gate run carries the version rolled out; a monitor's has none."""
    command = GateCommand(
        env_file=Path("/e/prod.toml"),
        stages=["post-deploy"],
        checks_dir=Path("/r"),
        logs_dir=Path("/r/logs"),
        timeout_s=60.0,
        base_url="https://x.example",
        release_version="v2",
    )

    assert command.argv("run-1")[-4:] == [
        "--base-url",
        "https://x.example",
        "--release-version",
        "v2",
    ]
    assert command.log("run-1") == Path("/r/logs/run-1.log")
