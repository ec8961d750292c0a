"""Evidence that the runner's network works when the target cannot be reached: an answer in
this run, a same-target baseline, the canary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from releasegate.config import Environment, load_environment
from releasegate.evidence.results import Reachability
from releasegate.ops.reachability import ANSWERED_FILE, gather, note_answer
from releasegate.redact import Redactor
from releasegate.slo.synthetic import BASELINE_FILE, Sample, SampleSet

TARGET = "http://127.0.0.1:8080"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def environment(tmp_path: Path, canary_url: str | None = None) -> Environment:
    canary = f'canary_url = "{canary_url}"\n' if canary_url else ""
    (tmp_path / "prod.toml").write_text(f'[target]\nbase_url = "{TARGET}"\n{canary}')
    return load_environment("prod", tmp_path, {})


def baseline(
    directory: Path,
    *,
    target: str = TARGET,
    env: str = "prod",
    age: timedelta = timedelta(hours=1),
    status: int | None = 200,
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    samples = [Sample(0.0, "GET /", status, 3.0, None if status else "ConnectError")]
    SampleSet(env, target, samples, taken_at=(NOW - age).isoformat()).write(
        directory / BASELINE_FILE
    )


def canary_answers(url: str) -> str:
    return "answered 204"


def canary_refuses(url: str) -> str:
    raise httpx.ConnectError("connection refused")


def look(tmp_path: Path, canary_url: str | None = None, canary=canary_answers) -> Reachability:  # type: ignore[no-untyped-def]
    run_dir = tmp_path / "reports" / "run-now"
    run_dir.mkdir(parents=True, exist_ok=True)
    return gather(
        env=environment(tmp_path, canary_url),
        target_url=TARGET,
        run_dir=run_dir,
        reports_dir=tmp_path / "reports",
        redactor=Redactor(),
        canary=canary,
        now=NOW,
    )


def test_nothing_recorded_is_no_evidence(tmp_path: Path) -> None:
    """No answer, no baseline, no canary: no evidence, and the places looked at are named."""
    seen = look(tmp_path)

    assert seen.evidence is None
    assert seen.looked_at[-1] == "[target] canary_url (not set)"


def test_an_answer_earlier_in_this_run_is_evidence(tmp_path: Path) -> None:
    """The gate's HTTP client left a note of the target's first answer in the run folder."""
    run_dir = tmp_path / "reports" / "run-now"
    run_dir.mkdir(parents=True)
    note_answer(run_dir, TARGET + "/")

    assert "answered earlier in this run" in str(look(tmp_path).evidence)
    assert (run_dir / ANSWERED_FILE).exists()


def test_another_targets_answer_in_this_run_is_no_evidence(tmp_path: Path) -> None:
    """A note about another target proves nothing about this one."""
    run_dir = tmp_path / "reports" / "run-now"
    run_dir.mkdir(parents=True)
    note_answer(run_dir, "http://127.0.0.1:9999")

    assert look(tmp_path).evidence is None


def test_the_note_holds_no_secret_of_the_url(tmp_path: Path) -> None:
    """The note keeps the target's key, a digest, never the URL (it may hold a secret)."""
    note_answer(tmp_path, "https://user:s3cret-pass@example.test/app")

    assert "s3cret-pass" not in (tmp_path / ANSWERED_FILE).read_text()


@pytest.mark.parametrize(
    ("kwargs", "evidence"),
    [
        pytest.param({}, True, id="same-target-fresh-answered"),
        pytest.param({"target": "http://127.0.0.1:9999"}, False, id="another-target"),
        pytest.param({"env": "staging"}, False, id="another-environment"),
        pytest.param({"age": timedelta(hours=30)}, False, id="older-than-max-age"),
        pytest.param({"status": None}, False, id="nothing-answered-in-it"),
    ],
)
def test_a_baseline_is_evidence_only_of_its_own_target(
    tmp_path: Path, kwargs: dict[str, object], evidence: bool
) -> None:
    """A baseline counts when it is this environment's, of this target, recent, and answered."""
    baseline(tmp_path / "reports" / "run-before", **kwargs)  # type: ignore[arg-type]

    assert (look(tmp_path).evidence is not None) is evidence


def test_a_canary_that_answers_is_evidence(tmp_path: Path) -> None:
    """The canary answering now shows that this runner's network works."""
    seen = look(tmp_path, canary_url="http://127.0.0.1:7/status")

    assert seen.evidence == "the canary http://127.0.0.1:7/status answered 204 now"


def test_a_canary_that_does_not_answer_is_no_evidence(tmp_path: Path) -> None:
    """A silent canary means this runner may be cut off: no evidence, and the error is named."""
    seen = look(tmp_path, canary_url="http://127.0.0.1:7/status", canary=canary_refuses)

    assert seen.evidence is None
    assert "connection refused" in seen.looked_at[-1]
