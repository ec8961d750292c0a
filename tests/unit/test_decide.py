"""The verdict rules: pure functions over results, one row per rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from releasegate.evidence.decide import decide
from releasegate.evidence.results import CheckResult, Results, RunInfo
from releasegate.outcome import Verdict


def results(*checks: dict[str, Any], **run: Any) -> Results:
    info: dict[str, Any] = {
        "id": "r1",
        "environment": "local",
        "target_url": "http://127.0.0.1:1",
        "started_at": datetime(2026, 1, 1, tzinfo=UTC),
        "tool_version": "0",
        "stages_requested": ["smoke"],
        "status": "finished",
        "complete": True,
        "pytest_exit_status": 0,
    }
    info.update(run)
    made = [
        CheckResult(**{"id": f"t{i}", "stage": "smoke", "outcome": "passed", **c})
        for i, c in enumerate(checks)
    ]
    return Results(run=RunInfo(**info), checks=made)


PASS: dict[str, Any] = {}
FAIL = {"outcome": "failed", "cause": "product", "message": "answered 500, expected 200"}
ERROR = {"outcome": "error", "cause": "inconclusive", "message": "connection refused"}
SKIP = {"outcome": "skipped"}
ADVISORY_PASS = {"blocking": False}
UNREACHABLE = {
    "outcome": "error",
    "cause": "unreachable",
    "message": "GET http://127.0.0.1:1/api/health: connection refused after 3 attempts",
}
ANSWERED = {"evidence": "the canary http://127.0.0.1:2 answered 200 now"}
NOT_ANSWERED = {"looked_at": ["an answer of the target earlier in this run"]}

RULES = [
    pytest.param(results(PASS, PASS), Verdict.GO, [], id="all-passed-is-go"),
    pytest.param(results(PASS, FAIL), Verdict.ROLLBACK, ["check-failed"], id="failure-rollback"),
    pytest.param(results(PASS, ERROR), Verdict.HOLD, ["could-not-measure"], id="error-hold"),
    pytest.param(
        results(FAIL, ERROR),
        Verdict.ROLLBACK,
        ["check-failed", "could-not-measure"],
        id="a-measured-failure-outranks-missing-evidence",
    ),
    pytest.param(results(), Verdict.HOLD, ["stage-missing"], id="no-checks-is-hold"),
    pytest.param(results(SKIP, SKIP), Verdict.HOLD, ["stage-missing"], id="all-skipped-is-hold"),
    pytest.param(
        results(PASS, stages_requested=["smoke", "slo"]),
        Verdict.HOLD,
        ["stage-missing"],
        id="asked-stage-without-results",
    ),
    pytest.param(results(PASS, stages_requested=[]), Verdict.HOLD, ["no-stage"], id="no-stage"),
    pytest.param(
        results(PASS, status="interrupted", complete=False, pytest_exit_status=2),
        Verdict.HOLD,
        ["run-incomplete"],
        id="interrupted",
    ),
    pytest.param(
        results(PASS, status="running", complete=False, pytest_exit_status=None),
        Verdict.HOLD,
        ["run-incomplete"],
        id="killed-while-running",
    ),
    pytest.param(
        results(PASS, complete=False, pytest_exit_status=1),
        Verdict.HOLD,
        ["run-incomplete"],
        id="stopped-early-or-lost-a-worker",
    ),
    pytest.param(
        results(pytest_exit_status=5),
        Verdict.HOLD,
        ["run-incomplete", "stage-missing"],
        id="no-tests-collected",
    ),
    pytest.param(
        results(PASS, {**FAIL, "blocking": False}),
        Verdict.GO,
        [],
        id="advisory-failure-is-go",
    ),
    pytest.param(
        results(PASS, ERROR, policy={"on_inconclusive": "rollback"}),
        Verdict.ROLLBACK,
        ["could-not-measure"],
        id="policy-turns-hold-into-rollback",
    ),
    pytest.param(
        results(PASS, {**FAIL, "stage": None}),
        Verdict.ROLLBACK,
        ["check-failed"],
        id="a-check-without-a-stage-still-fails-the-release",
    ),
    pytest.param(
        results(PASS, {**FAIL, "stage": "unstaged"}),
        Verdict.ROLLBACK,
        ["check-failed"],
        id="an-unstaged-failure-is-rollback",
    ),
    pytest.param(
        results(PASS, {**ERROR, "stage": "unstaged"}),
        Verdict.HOLD,
        ["could-not-measure"],
        id="an-unstaged-error-is-hold",
    ),
    pytest.param(
        results(PASS, {"stage": "unstaged"}, {**SKIP, "stage": "unstaged"}),
        Verdict.GO,
        [],
        id="unstaged-checks-that-pass-or-skip-leave-go",
    ),
    pytest.param(
        results(PASS, PASS, collected=3),
        Verdict.HOLD,
        ["checks-missing"],
        id="fewer-reported-than-collected",
    ),
    pytest.param(
        results(PASS, PASS, collected=2), Verdict.GO, [], id="all-collected-checks-reported"
    ),
    pytest.param(
        results(SKIP, ADVISORY_PASS),
        Verdict.HOLD,
        ["no-vote"],
        id="only-an-advisory-check-ran",
    ),
    pytest.param(
        results(FAIL, policy={"max_failed": {"smoke": 1}}),
        Verdict.HOLD,
        ["no-vote"],
        id="failed-within-allowance-and-nothing-passed",
    ),
    pytest.param(
        results(PASS, FAIL, policy={"max_failed": {"smoke": 1}}),
        Verdict.GO,
        [],
        id="failed-within-allowance-beside-a-pass",
    ),
    pytest.param(
        results(PASS, policy={"blocking_stages": []}),
        Verdict.HOLD,
        ["no-vote"],
        id="no-blocking-stage-no-go",
    ),
    pytest.param(
        results(PASS, policy={"advisory_checks": ["*"]}),
        Verdict.HOLD,
        ["no-vote"],
        id="every-check-advisory-no-go",
    ),
    pytest.param(
        results(PASS, {"outcome": "error", "cause": "stale", "message": "timeline 9 h old"}),
        Verdict.HOLD,
        ["evidence-stale"],
        id="stale-evidence-is-hold",
    ),
    pytest.param(
        results(PASS, UNREACHABLE),
        Verdict.HOLD,
        ["unreachable"],
        id="unreachable-without-evidence-is-hold",
    ),
    pytest.param(
        results(PASS, UNREACHABLE, reachability=NOT_ANSWERED),
        Verdict.HOLD,
        ["unreachable"],
        id="unreachable-nothing-found-is-hold",
    ),
    pytest.param(
        results(PASS, UNREACHABLE, reachability=ANSWERED),
        Verdict.ROLLBACK,
        ["unreachable"],
        id="unreachable-after-answering-before-is-rollback",
    ),
    pytest.param(
        results(PASS, {**UNREACHABLE, "blocking": False}, reachability=ANSWERED),
        Verdict.GO,
        [],
        id="an-advisory-unreachable-check-only-warns",
    ),
]


@pytest.mark.parametrize(("evidence", "verdict", "rules"), RULES)
def test_rules(evidence: Results, verdict: Verdict, rules: list[str]) -> None:
    """Each rule of DESIGN.md gives its verdict and names itself in the reasons."""
    decision = decide(evidence)

    assert decision.verdict is verdict
    assert [r.rule for r in decision.reasons] == rules


def test_advisory_failures_are_warnings() -> None:
    """A failed non-blocking check is shown as a warning, not a reason."""
    decision = decide(results(PASS, {**FAIL, "blocking": False}))

    assert [w.rule for w in decision.warnings] == ["advisory"]


def test_deciding_twice_gives_the_same_answer() -> None:
    """The decision is a pure function of the evidence."""
    evidence = results(PASS, FAIL, ERROR)

    assert decide(evidence) == decide(evidence)


def test_a_reason_names_the_check_and_the_message() -> None:
    """A reason line says which check, and what it found."""
    decision = decide(results(PASS, FAIL))

    assert decision.reasons[0].line() == "check-failed: t1: answered 500, expected 200"


TITLED = {"title": "The page answers"}


@pytest.mark.parametrize(
    ("evidence", "rule", "warning"),
    [
        pytest.param(results({**FAIL, **TITLED}), "check-failed", False, id="check-failed"),
        pytest.param(results({**ERROR, **TITLED}), "could-not-measure", False, id="error"),
        pytest.param(results({**UNREACHABLE, **TITLED}), "unreachable", False, id="unreachable"),
        pytest.param(
            results(PASS, {**FAIL, **TITLED, "blocking": False}), "advisory", True, id="advisory"
        ),
        pytest.param(
            results(PASS, {**FAIL, **TITLED}, policy={"max_failed": {"smoke": 1}}),
            "within-failure-limit",
            True,
            id="within-limit",
        ),
        pytest.param(
            results({**FAIL, **TITLED}, policy={"blocking_stages": ["slo"]}),
            "dry-run:check-failed",
            True,
            id="dry-run",
        ),
        pytest.param(
            results({**PASS, **TITLED, "flaky": True, "attempts": 2}, policy={"max_flaky": 0}),
            "flaky-over-limit",
            False,
            id="flaky-over-limit",
        ),
        pytest.param(
            results({**PASS, **TITLED, "flaky": True, "attempts": 2}, policy={"max_flaky": 1}),
            "flaky",
            True,
            id="flaky",
        ),
    ],
)
def test_every_reason_about_a_check_carries_its_title(
    evidence: Results, rule: str, warning: bool
) -> None:
    """The check's title travels with each reason and warning that names it."""
    decision = decide(evidence)

    found = [r for r in (decision.warnings if warning else decision.reasons) if r.rule == rule]
    assert [r.title for r in found] == ["The page answers"]


def test_a_reason_for_people_leads_with_the_checks_title() -> None:
    """Title, what was found, then the short node id and the rule; evidence from before titles
    gets its title from the node id; a reason about the run reads as before."""
    titled = replace(
        decide(results(PASS, FAIL)).reasons[0],
        check="suites/load/test_load.py::test_overall_latency_is_within_threshold[p95]",
        title="Overall p95 latency under load is within its threshold",
        message="p95 612 ms > 500 ms",
    )
    untitled = replace(titled, title=None)
    about_the_run = decide(results(PASS, status="interrupted")).reasons[0]

    assert titled.readable() == (
        "Overall p95 latency under load is within its threshold: p95 612 ms > 500 ms"
        " (test_load.py::test_overall_latency_is_within_threshold[p95]; check-failed)"
    )
    assert titled.readable(code=True).endswith(
        "(`test_load.py::test_overall_latency_is_within_threshold[p95]`; check-failed)"
    )
    assert untitled.readable().startswith(
        "Overall latency is within threshold (p95): p95 612 ms > 500 ms (test_load.py::"
    )
    assert about_the_run.readable() == about_the_run.line()


def test_a_dry_run_stage_shows_its_failures_as_warnings() -> None:
    """A failure in a non-blocking stage is a warning named as a dry run."""
    decision = decide(results(FAIL, policy={"blocking_stages": ["slo"]}))

    assert [w.rule for w in decision.warnings] == ["dry-run:check-failed"]
    assert decision.stages[0].blocking is False
    assert decision.stages[0].verdict is Verdict.ROLLBACK


def test_stage_decisions_carry_their_counts() -> None:
    """Each stage reports its own verdict and counts."""
    decision = decide(results(PASS, FAIL, ERROR, stages_requested=["smoke"]))

    (stage,) = decision.stages
    assert stage.counts == {"passed": 1, "failed": 1, "error": 1, "skipped": 0}
    assert stage.verdict is Verdict.ROLLBACK
    assert decision.complete is False


def test_an_unstaged_check_names_its_file_in_a_warning() -> None:
    """A check collected without a stage marker is counted, and its file is named."""
    decision = decide(results(PASS, {"id": "tests/test_extra.py::test_x", "stage": None}))

    (warning,) = [w for w in decision.warnings if w.rule == "unstaged"]
    assert "tests/test_extra.py has no stage marker" in warning.message
    assert [s.stage for s in decision.stages] == ["smoke", "unstaged"]


def test_missing_checks_are_counted_in_the_reason() -> None:
    """checks-missing says how many of how many collected never reported."""
    decision = decide(results(PASS, collected=5))

    assert decision.reasons[0].message.startswith("4 of 5 collected checks reported no result")


def test_no_vote_names_the_stage() -> None:
    """A stage whose blocking checks all skipped says so, even when an advisory one passed."""
    decision = decide(results(SKIP, ADVISORY_PASS))

    expected = "no blocking check of stage smoke ran (1 skipped, 1 advisory)"
    assert decision.reasons[0].message == expected


def test_unreachable_hold_says_what_was_looked_for() -> None:
    """A HOLD for an unreachable target says which evidence was missing and what to do."""
    decision = decide(results(PASS, UNREACHABLE, reachability=NOT_ANSWERED))

    message = decision.reasons[0].message
    assert "HOLD, not ROLLBACK" in message
    assert "an answer of the target earlier in this run" in message
    assert "canary_url" in message


def test_unreachable_rollback_names_the_evidence() -> None:
    """A ROLLBACK for an unreachable target names its evidence, and claims no more than it
    shows: a canary answering is no answer of the target."""
    decision = decide(results(PASS, UNREACHABLE, reachability=ANSWERED))

    message = decision.reasons[0].message
    assert "ROLLBACK, not HOLD: the target is down" in message
    assert message.endswith(": the canary http://127.0.0.1:2 answered 200 now")
    assert "the target answered before" not in message
