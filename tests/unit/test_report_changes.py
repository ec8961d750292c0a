"""What a stakeholder reads beside a verdict: the indicators of a run, what changed since the
last GO, and the site's memory of runs (site.json) merged with a published one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from releasegate.errors import SiteManifestUnreadable
from releasegate.evidence.results import CheckResult, Measurement
from releasegate.report.changes import compare
from releasegate.report.indicators import Sli, indicators
from releasegate.report.summary import (
    CheckSummary,
    RunSummary,
    SiteManifest,
    merge,
    previous_go,
    read_manifest,
)

SLO = "suites/slo/test_objectives.py::test_objective"
PAGES = "suites/smoke/test_browser_pages.py"


def _slo_check(name: str, source: str, value: float, low: float, high: float) -> CheckResult:
    return CheckResult(
        id=f"{SLO}[{name}-{source}]",
        stage="slo",
        outcome="passed",
        measurements=[
            Measurement(
                name=name, value=value, unit="ms", threshold=500, comparison="<=", source=source
            ),
            Measurement(name=f"{name} interval low", value=low, unit="ms"),
            Measurement(name=f"{name} interval high", value=high, unit="ms"),
        ],
    )


def test_indicators_are_read_from_the_slo_browser_and_load_checks() -> None:
    checks = [
        _slo_check("p95", "synthetic", 120, 100, 140),
        _slo_check("p50", "synthetic", 40, 30, 50),  # not charted
        CheckResult(
            id=f"{PAGES}::test_page_largest_contentful_paint_is_within_threshold[/x-chromium]",
            stage="smoke",
            outcome="passed",
            measurements=[
                Measurement(
                    name="largest contentful paint",
                    value=900,
                    unit="ms",
                    threshold=2500,
                    comparison="<=",
                )
            ],
        ),
        CheckResult(
            id="suites/load/test_load.py::test_throughput_meets_the_minimum",
            stage="load",
            outcome="passed",
            measurements=[
                Measurement(
                    name="requests/s answered", value=80, unit="rps", threshold=3, comparison=">="
                )
            ],
        ),
        CheckResult(
            id=f"{SLO}[p99-synthetic]",
            stage="slo",
            outcome="skipped",
            measurements=[
                Measurement(name="p99", value=1, unit="ms", threshold=9, source="synthetic")
            ],
        ),
    ]

    found = indicators(checks)

    assert [(s.key, s.series, s.value) for s in found] == [
        ("p95 latency", "synthetic", 120.0),
        ("largest contentful paint (LCP)", "/x", 900.0),
        ("load throughput", "load gate", 80.0),
    ]
    assert (found[0].low, found[0].high, found[0].objective) == (100.0, 140.0, 500.0)
    assert found[2].higher_is_better()


def test_the_load_gates_percentile_is_not_charted_twice_beside_the_slo_gates_locust_source() -> (
    None
):
    load = CheckResult(
        id="suites/load/test_load.py::test_overall_latency_is_within_threshold[p95]",
        stage="load",
        outcome="passed",
        measurements=[Measurement(name="p95", value=7, unit="ms", threshold=500, comparison="<=")],
    )
    alone = indicators([load])
    beside = indicators([load, _slo_check("p95", "locust", 7, 6, 8)])

    assert [s.series for s in alone] == ["load gate"]
    assert [s.series for s in beside] == ["locust"]


def _sli(value: float, low: float | None = None, high: float | None = None, **kw: object) -> Sli:
    fields: dict[str, object] = {
        "key": "p95 latency",
        "series": "synthetic",
        "unit": "ms",
        "objective": 500.0,
        "comparison": "<=",
    }
    fields.update(kw)
    return Sli.model_validate({"value": value, "low": low, "high": high, **fields})


def _run(
    run_id: str,
    verdict: str = "GO",
    *,
    minute: int = 0,
    environment: str = "staging",
    checks: list[CheckSummary] | None = None,
    slis: list[Sli] | None = None,
    headers: list[str] | None = None,
    release: str = "1.0.0",
) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        environment=environment,
        verdict=verdict,
        release_version=release,
        started_at=datetime(2026, 1, 1, 0, minute, tzinfo=UTC),
        checks=checks or [],
        slis=slis or [],
        headers=headers or [],
    )


def _check(check_id: str, outcome: str, console: int | None = None) -> CheckSummary:
    return CheckSummary(
        id=check_id,
        title=f"title of {check_id}",
        stage="smoke",
        outcome=outcome,
        console_errors=console,
        message="TypeError: x is undefined" if outcome == "failed" else "",
    )


@pytest.mark.parametrize(
    ("before", "now", "moved", "worse"),
    [
        pytest.param(_sli(100, 90, 110), _sli(300, 280, 320), True, True, id="up-outside"),
        pytest.param(_sli(300, 280, 320), _sli(100, 90, 110), True, False, id="down-outside"),
        pytest.param(_sli(100, 90, 110), _sli(105, 95, 115), False, False, id="within-noise"),
        pytest.param(_sli(4, 4, 5), _sli(6, 5, 7), False, False, id="intervals-touch"),
        pytest.param(_sli(100, 90, 110), _sli(112, 111, 130), True, True, id="intervals-apart"),
        pytest.param(_sli(100, 90, 110), _sli(300), True, True, id="last-gos-interval"),
        pytest.param(_sli(100), _sli(300), False, False, id="no-interval-not-judged"),
        pytest.param(
            _sli(99.9, 99.5, 100, key="availability", comparison=">=", objective=99.0, unit="%"),
            _sli(97.0, 96.0, 98.0, key="availability", comparison=">=", objective=99.0, unit="%"),
            True,
            True,
            id="availability-down-is-worse",
        ),
    ],
)
def test_an_indicator_moved_only_beyond_its_interval(
    before: Sli, now: Sli, moved: bool, worse: bool
) -> None:
    changes = compare(_run("b", slis=[now], minute=5), _run("a", slis=[before]))

    assert bool(changes.moved) is moved
    if moved:
        assert changes.moved[0].worse is worse
        assert ("worse" if worse else "better") in changes.moved[0].line()
    else:
        assert changes.steady + changes.not_compared == 1


def test_checks_whose_outcome_changed_are_listed_worse_first() -> None:
    previous = _run("a", checks=[_check("t1", "passed"), _check("t2", "failed")])
    run = _run("b", "ROLLBACK", checks=[_check("t1", "failed"), _check("t2", "passed")])

    changes = compare(run, previous)

    assert [(c.check, c.before, c.now, c.worse) for c in changes.outcomes] == [
        ("t1", "passed", "failed", True),
        ("t2", "failed", "passed", False),
    ]
    assert changes.outcomes[0].line() == "title of t1: passed → failed"


def test_new_console_errors_security_headers_and_the_release_are_compared() -> None:
    previous = _run(
        "a",
        checks=[_check("console[/x]", "passed", console=0)],
        headers=["Content-Security-Policy", "X-Content-Type-Options"],
        release="1.0.0",
    )
    run = _run(
        "b",
        "ROLLBACK",
        checks=[_check("console[/x]", "failed", console=2), _check("new", "passed")],
        headers=["Content-Security-Policy", "Strict-Transport-Security"],
        release="1.1.0",
    )

    changes = compare(run, previous)

    assert [(c.before, c.now, c.message) for c in changes.console] == [
        (0, 2, "TypeError: x is undefined")
    ]
    assert changes.headers_missing == ["X-Content-Type-Options"]
    assert changes.headers_new == ["Strict-Transport-Security"]
    assert changes.new_checks == ["title of new"]
    assert changes.release_line() == "Release 1.0.0 (last GO) → 1.1.0 (this run)."
    assert not changes.nothing


def test_the_same_run_again_changed_nothing() -> None:
    checks = [_check("t1", "passed", console=0)]
    changes = compare(
        _run("b", checks=checks, slis=[_sli(100, 90, 110)], minute=1),
        _run("a", checks=checks, slis=[_sli(101, 91, 111)]),
    )

    assert changes.nothing
    assert changes.release_line() == "Same release as the last GO: 1.0.0."


def test_the_last_go_is_the_newest_go_of_the_same_environment_before_the_run() -> None:
    runs = [
        _run("go-old", minute=1),
        _run("go-new", minute=2),
        _run("hold", "HOLD", minute=3),
        _run("go-prod", minute=4, environment="prod"),
        _run("this", "ROLLBACK", minute=5),
        _run("go-later", minute=6),
    ]
    this = runs[4]

    assert previous_go(this, runs) is runs[1]
    assert previous_go(runs[0], runs) is None


def test_a_published_manifest_is_merged_newest_first_and_a_local_run_replaces_its_copy() -> None:
    published = SiteManifest(runs=[_run("a", minute=1), _run("b", "HOLD", minute=2)])
    text = published.model_dump_json(by_alias=True)

    runs = merge([_run("b", "GO", minute=2), _run("c", minute=3)], read_manifest(text, "x"))

    assert [(r.run_id, r.verdict) for r in runs] == [("c", "GO"), ("b", "GO"), ("a", "GO")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{", "not a releasegate site manifest"),
        ('{"schema": "releasegate.site/1", "runs": [{"run_id": 1}]}', "runs.0"),
        ('{"schema": "other/9", "runs": []}', "schema 'other/9'"),
    ],
)
def test_a_published_manifest_that_is_not_ours_stops_the_build(text: str, says: str) -> None:
    with pytest.raises(SiteManifestUnreadable) as raised:
        read_manifest(text, "s3://b/site.json")

    assert str(raised.value).startswith("s3://b/site.json: ")
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)
