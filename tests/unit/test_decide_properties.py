"""Invariants of the decision over generated results.json documents (Hypothesis).

The table tests in test_decide.py show each rule once; these state what must hold for every
document: GO only on complete evidence, ROLLBACK only on a measured failure, and a verdict that
does not depend on the order of the checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.evidence.decide import decide
from releasegate.evidence.results import CheckResult, Results, RunInfo
from releasegate.outcome import Verdict
from releasegate.stages import STAGES

OUTCOME_CAUSES = {
    "passed": [None],
    "skipped": [None],
    "failed": ["product"],
    "error": ["inconclusive", "setup", "crash", "unreachable", "stale"],
}


@st.composite
def checks(draw: st.DrawFn, index: int) -> dict[str, Any]:
    outcome = draw(st.sampled_from(sorted(OUTCOME_CAUSES)))
    flaky = outcome == "passed" and draw(st.booleans())
    return {
        "id": f"suites/t.py::test_{index}",
        "stage": draw(st.sampled_from([*STAGES, "unstaged", None])),
        "outcome": outcome,
        "cause": draw(st.sampled_from(OUTCOME_CAUSES[outcome])),
        "blocking": draw(st.booleans()),
        "flaky": flaky,
        "attempts": 2 if flaky else 1,
        "message": f"message {index}",
    }


stage_lists = st.lists(st.sampled_from(STAGES), unique=True, max_size=len(STAGES))


@st.composite
def documents(draw: st.DrawFn) -> Results:
    count = draw(st.integers(min_value=0, max_value=12))
    made = [draw(checks(i)) for i in range(count)]
    ids = [c["id"] for c in made]
    advisory = draw(
        st.one_of(
            st.just([]),
            st.lists(st.sampled_from(ids), max_size=3) if ids else st.just([]),
            st.just(["*"]),
        )
    )
    policy = {
        "blocking_stages": draw(st.one_of(st.just(list(STAGES)), stage_lists)),
        "required_stages": draw(st.one_of(st.just([]), stage_lists)),
        "max_failed": draw(st.dictionaries(st.sampled_from(STAGES), st.integers(0, 2))),
        "on_inconclusive": draw(st.sampled_from(["hold", "rollback"])),
        "advisory_checks": advisory,
        "max_flaky": draw(st.integers(0, 2)),
    }
    reachability = draw(
        st.sampled_from([None, {"looked_at": ["this run"]}, {"evidence": "the canary answered"}])
    )
    run = RunInfo(
        id="r",
        environment="prod",
        target_url="http://127.0.0.1:1",
        started_at=datetime(2026, 12, 3, tzinfo=UTC),
        tool_version="0",
        stages_requested=draw(stage_lists),
        status=draw(st.sampled_from(["running", "finished", "interrupted"])),
        complete=draw(st.booleans()),
        pytest_exit_status=draw(st.sampled_from([None, 0, 1, 2, 3, 5])),
        collected=draw(st.one_of(st.none(), st.integers(0, count + 2))),
        policy=policy,
        reachability=reachability,
    )
    return Results(run=run, checks=[CheckResult(**c) for c in made])


def _votes(check: CheckResult, policy: dict[str, Any]) -> bool:
    """Written apart from decide(): blocking stage (or none at all), blocking, not advisory."""
    stage = check.stage or "unstaged"
    stage_blocks = stage == "unstaged" or stage in policy["blocking_stages"]
    advisory = any(fnmatchcase(check.id, p) for p in policy["advisory_checks"])
    return stage_blocks and check.blocking and not advisory


def _voting(results: Results, stage: str) -> list[CheckResult]:
    policy = results.run.policy
    return [c for c in results.checks if (c.stage or "unstaged") == stage and _votes(c, policy)]


@settings(max_examples=200, deadline=None)
@given(documents())
def test_go_only_on_complete_evidence(results: Results) -> None:
    """GO: the run finished whole, every asked-for blocking stage has a passed voting check and
    no failure beyond its allowance nor error, nothing unstaged failed, and something voted."""
    if decide(results).verdict is not Verdict.GO:
        return
    run, policy = results.run, results.run.policy
    asked = set(run.stages_requested) | set(policy["required_stages"])

    assert run.status == "finished"
    assert run.complete
    assert run.collected is None or len(results.checks) >= run.collected
    assert asked & set(policy["blocking_stages"])
    for stage in asked & set(policy["blocking_stages"]):
        voting = _voting(results, stage)
        assert any(c.outcome == "passed" for c in voting)
        assert not any(c.outcome == "error" for c in voting)
        assert sum(c.outcome == "failed" for c in voting) <= policy["max_failed"].get(stage, 0)
    assert not any(c.outcome in ("failed", "error") for c in _voting(results, "unstaged"))


@settings(max_examples=200, deadline=None)
@given(documents())
def test_rollback_only_on_a_measured_failure(results: Results) -> None:
    """ROLLBACK: a voting check failed, or a voting check found the target unreachable after
    it had answered before, or the policy turns missing evidence into ROLLBACK."""
    if decide(results).verdict is not Verdict.ROLLBACK:
        return
    policy = results.run.policy
    voting = [c for c in results.checks if _votes(c, policy)]
    network_works = bool(results.run.reachability and results.run.reachability.evidence)

    assert (
        policy["on_inconclusive"] == "rollback"
        or any(c.outcome == "failed" for c in voting)
        or (network_works and any(c.cause == "unreachable" for c in voting))
    )


@settings(max_examples=100, deadline=None)
@given(documents(), st.randoms(use_true_random=False))
def test_the_verdict_does_not_depend_on_check_order(results: Results, random: Any) -> None:
    """Shuffling the checks changes nothing but the order of reasons."""
    shuffled = list(results.checks)
    random.shuffle(shuffled)
    reordered = results.model_copy(update={"checks": shuffled})

    assert decide(reordered).verdict is decide(results).verdict
