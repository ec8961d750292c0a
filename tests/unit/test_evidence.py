"""results.json: folding phases into checks, merging workers, writing and reading."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from releasegate.evidence.results import (
    SCHEMA,
    EvidenceError,
    Phase,
    ResultsBuilder,
    RunInfo,
    read_results,
    stages_in_markexpr,
    write_atomically,
)


def run_info() -> RunInfo:
    return RunInfo(
        id="r1",
        environment="local",
        target_url="http://127.0.0.1:1",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        tool_version="0",
        stages_requested=["smoke"],
    )


def phases(
    nodeid: str, *steps: tuple[str, str, str | None], worker: str | None = None
) -> list[Phase]:
    return [
        Phase(nodeid, when, outcome, 0.1, "smoke", True, cause, f"{when} {outcome}", [], [], worker)
        for when, outcome, cause in steps
    ]


def fold(*steps: tuple[str, str, str | None]) -> tuple[str, str | None]:
    builder = ResultsBuilder(run_info())
    for phase in phases("t", *steps):
        builder.add(phase)
    (check,) = builder.checks()
    return check.outcome, check.cause


OK = ("setup", "passed", None)
CALL_OK = ("call", "passed", None)
DOWN_OK = ("teardown", "passed", None)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([OK, CALL_OK, DOWN_OK], ("passed", None), id="passed"),
        pytest.param(
            [OK, ("call", "failed", "product"), DOWN_OK],
            ("failed", "product"),
            id="assertion-in-call-is-failed",
        ),
        pytest.param(
            [OK, ("call", "failed", "inconclusive"), DOWN_OK],
            ("error", "inconclusive"),
            id="unmeasurable-call-is-error",
        ),
        pytest.param(
            [("setup", "failed", "inconclusive"), DOWN_OK], ("error", "setup"), id="setup-error"
        ),
        pytest.param(
            [OK, CALL_OK, ("teardown", "failed", None)],
            ("error", "setup"),
            id="teardown-error-after-pass",
        ),
        pytest.param([("setup", "skipped", None), DOWN_OK], ("skipped", None), id="skipped"),
        pytest.param([("???", "failed", None)], ("error", "crash"), id="crashed-worker"),
    ],
)
def test_phases_fold_into_one_outcome(
    steps: list[tuple[str, str, str | None]], expected: tuple[str, str | None]
) -> None:
    """A test's phases become one check; only an assertion in the call phase is a failure."""
    assert fold(*steps) == expected


def test_workers_interleaved_give_the_same_checks_as_a_serial_run() -> None:
    """Phases arriving from two workers in any order merge into the serial run's checks."""
    serial = ResultsBuilder(run_info())
    streams = []
    for index in range(6):
        outcome = "failed" if index == 3 else "passed"
        steps = phases(
            f"t{index}",
            OK,
            ("call", outcome, "product" if index == 3 else None),
            DOWN_OK,
            worker=f"gw{index % 2}",
        )
        for phase in steps:
            serial.add(phase)
        streams.append(steps)
    merged = ResultsBuilder(run_info())
    pending = [list(s) for s in streams]
    rng = random.Random(7)
    while any(pending):
        stream = rng.choice([s for s in pending if s])
        merged.add(stream.pop(0))  # phases of one test stay in order, tests interleave

    assert [c.model_dump() for c in merged.checks()] == [c.model_dump() for c in serial.checks()]
    assert [c.outcome for c in merged.checks()].count("failed") == 1
    assert {c.worker for c in merged.checks()} == {"gw0", "gw1"}


def test_measurements_of_all_phases_are_kept() -> None:
    """Measurements reported with any phase end up on the check."""
    builder = ResultsBuilder(run_info())
    builder.add(Phase("t", "call", "passed", measurements=[{"name": "latency", "value": 3.0}]))
    builder.add(Phase("t", "teardown", "passed", measurements=[{"name": "x", "value": "y"}]))

    (check,) = builder.checks()

    assert [m.name for m in check.measurements] == ["latency", "x"]


def test_written_results_read_back_identically(tmp_path: Path) -> None:
    """What the plugin writes is what decide reads."""
    builder = ResultsBuilder(run_info())
    for phase in phases("t", OK, CALL_OK, DOWN_OK):
        builder.add(phase)
    write_atomically(tmp_path / "results.json", builder.results().to_json())

    back = read_results(tmp_path)

    assert back == builder.results()
    assert json.loads((tmp_path / "results.json").read_text())["schema"] == SCHEMA


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "no results.json", id="missing"),
        pytest.param(
            '{"schema": "releasegate.results/1", "run": {', "not valid JSON", id="truncated"
        ),
        pytest.param('{"schema": "other/9"}', "schema 'other/9'", id="unknown-schema"),
        pytest.param('{"schema": "releasegate.results/1", "run": {}}', "run.id", id="invalid"),
    ],
)
def test_unreadable_evidence_says_what_is_wrong(
    tmp_path: Path, content: str | None, message: str
) -> None:
    """Missing, truncated, foreign or invalid files raise EvidenceError naming the problem."""
    if content is not None:
        (tmp_path / "results.json").write_text(content)

    with pytest.raises(EvidenceError, match=message):
        read_results(tmp_path)


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    """Only the target file remains after a write."""
    write_atomically(tmp_path / "a.json", "{}")

    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize(
    ("expr", "stages"),
    [
        ("smoke", ["smoke"]),
        ("smoke or post_deploy", ["smoke", "post_deploy"]),
        ("not load", []),
        ("(slo) and not writes", ["slo"]),
        ("", []),
    ],
)
def test_stages_asked_for_by_a_mark_expression(expr: str, stages: list[str]) -> None:
    """The stages named in -m, except negated ones."""
    assert stages_in_markexpr(expr) == stages


def test_a_check_that_passes_on_a_retry_is_flaky() -> None:
    """A failed attempt retried by pytest-rerunfailures, then a pass: passed, flaky, 2 attempts."""
    builder = ResultsBuilder(run_info())
    for phase in phases("t", OK, ("call", "rerun", "product"), DOWN_OK, OK, CALL_OK, DOWN_OK):
        builder.add(phase)

    (check,) = builder.checks()

    assert (check.outcome, check.flaky, check.attempts) == ("passed", True, 2)


def test_a_check_that_fails_every_retry_is_failed_not_flaky() -> None:
    """Retried and failed again: failed, with the attempts counted."""
    builder = ResultsBuilder(run_info())
    failed = ("call", "failed", "product")
    for phase in phases("t", OK, ("call", "rerun", "product"), DOWN_OK, OK, failed, DOWN_OK):
        builder.add(phase)

    (check,) = builder.checks()

    assert (check.outcome, check.flaky, check.attempts) == ("failed", False, 2)
