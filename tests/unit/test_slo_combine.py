"""One verdict per objective from its sources (slo/combine.py): a conclusive failure anywhere
fails it, an unreachable target is never hidden by a pass, a conclusive pass anywhere passes
it, and only when no source can tell is it inconclusive; the message names the deciding source
and shows every source's line."""

from __future__ import annotations

import pytest

from releasegate.errors import TargetUnreachable
from releasegate.outcome import Judged, Judgement
from releasegate.slo.combine import SourceReading, combine, deciding
from releasegate.slo.objectives import Indicator, Objective

P95 = Objective(Indicator.LATENCY, 500.0, 0.95)
PASS = Judged.passed("p95 latency 80 ms within 500 ms", samples=410)
FAIL = Judged.failed("p95 latency 900 ms exceeds 500 ms", samples=30)
UNSURE = Judged.inconclusive("p95 latency 480 ms straddles 500 ms")


def reading(source: str, judged: Judged | None = None, error: str | None = None) -> SourceReading:
    return SourceReading(source, judged, error)


@pytest.mark.parametrize(
    ("readings", "expected", "decided_by"),
    [
        ([reading("synthetic", PASS)], Judgement.PASS, ["synthetic"]),
        ([reading("synthetic", FAIL)], Judgement.FAIL, ["synthetic"]),
        ([reading("synthetic", PASS), reading("prometheus", FAIL)], Judgement.FAIL, ["prometheus"]),
        ([reading("synthetic", UNSURE), reading("load", PASS)], Judgement.PASS, ["load"]),
        (
            [reading("synthetic", PASS), reading("load", PASS)],
            Judgement.PASS,
            ["synthetic", "load"],
        ),
        (
            [reading("synthetic", UNSURE), reading("prometheus", error="Prometheus down")],
            Judgement.INCONCLUSIVE,
            [],
        ),
        ([reading("prometheus", error="down"), reading("load", PASS)], Judgement.PASS, ["load"]),
        ([reading("synthetic", FAIL), reading("load", UNSURE)], Judgement.FAIL, ["synthetic"]),
    ],
)
def test_the_rule(
    readings: list[SourceReading], expected: Judgement, decided_by: list[str]
) -> None:
    judged = combine(P95, readings)

    assert judged.judgement is expected
    assert deciding(readings) == decided_by
    for r in readings:
        assert r.source in judged.message


def test_the_message_names_who_decided_and_every_source() -> None:
    judged = combine(
        P95, [reading("synthetic", UNSURE), reading("load", PASS), reading("prometheus", error="x")]
    )

    assert judged.message.startswith("p95 latency met (decided by load). ")
    assert "synthetic: could not tell: p95 latency 480 ms straddles 500 ms" in judged.message
    assert "prometheus: could not be read: x" in judged.message
    assert judged.samples == 410


def test_an_unreachable_target_is_not_hidden_by_a_pass() -> None:
    gone = TargetUnreachable("http://127.0.0.1:9: none of 20 requests got an answer")

    with pytest.raises(TargetUnreachable, match="none of 20"):
        combine(P95, [reading("prometheus", PASS), SourceReading("synthetic", unreachable=gone)])


def test_a_failure_outweighs_an_unreachable_source() -> None:
    gone = TargetUnreachable("refused")

    judged = combine(P95, [reading("load", FAIL), SourceReading("synthetic", unreachable=gone)])

    assert judged.judgement is Judgement.FAIL
    assert "synthetic: unreachable: refused" in judged.message


def test_no_source_is_inconclusive_never_a_pass() -> None:
    assert combine(P95, []).judgement is Judgement.INCONCLUSIVE
