"""The outcome vocabulary: one comparison of a measured value with its limit, one enforcement."""

from __future__ import annotations

import pytest

from releasegate.errors import CheckFailed, EvidenceMissing
from releasegate.outcome import Judged, Judgement, Verdict, compare, enforce


@pytest.mark.parametrize(
    ("value", "comparison", "limit", "judgement"),
    [
        (500.0, "<=", 500, Judgement.PASS),
        (500.1, "<=", 500, Judgement.FAIL),
        (500, "<", 500, Judgement.FAIL),
        (0.8, ">=", 0.8, Judgement.PASS),
        (0.79, ">=", 0.8, Judgement.FAIL),
        ("abc123", "==", "abc123", Judgement.PASS),
        ("abc124", "==", "abc123", Judgement.FAIL),
        (200, "in", [200, 204], Judgement.PASS),
        (500, "in", [200, 204], Judgement.FAIL),
        (None, "<=", 500, Judgement.INCONCLUSIVE),
    ],
)
def test_compare_judges_the_value_against_its_limit(
    value: float | str | None, comparison: str, limit: object, judgement: Judgement
) -> None:
    assert compare("x", value, comparison, limit).judgement is judgement  # type: ignore[arg-type]


def test_a_broken_limit_names_the_value_the_limit_and_where() -> None:
    judged = compare("query latency", 812.25, "<=", 500, unit="ms", where="db")

    assert judged.message == "query latency 812.25 ms at db is over the limit of 500 ms"
    assert (judged.measured, judged.limit, judged.where) == (812.25, 500, "db")


def test_percent_values_read_without_a_space() -> None:
    assert "1.5% is over the limit of 1%" in compare("error ratio", 1.5, "<=", 1, unit="%").message


def test_nothing_measured_is_inconclusive_never_a_pass() -> None:
    judged = compare("p95", None, "<=", 500, unit="ms")

    assert not judged.ok
    with pytest.raises(EvidenceMissing, match="p95: nothing measured"):
        enforce(judged)


def test_a_failure_raises_check_failed_with_its_figures_and_context() -> None:
    with pytest.raises(CheckFailed, match=r"over the limit of 500 ms \(env=prod\)") as raised:
        enforce(compare("p95", 900, "<=", 500, unit="ms"), context="env=prod")

    assert (raised.value.measured, raised.value.threshold) == (900, 500)


def test_a_pass_raises_nothing() -> None:
    enforce(Judged.passed("fine"))


@pytest.mark.parametrize(("word", "verdict"), [("GO", Verdict.GO), (" rollback", Verdict.ROLLBACK)])
def test_a_verdict_is_read_from_its_word(word: str, verdict: Verdict) -> None:
    assert Verdict.parse(word) is verdict


def test_an_unknown_verdict_word_says_which_are_known() -> None:
    with pytest.raises(
        ValueError, match="'maybe' is not a verdict \\(one of GO, ROLLBACK, HOLD\\)"
    ):
        Verdict.parse("maybe")
