"""A metric check's measurements on the run page: the success condition read as a threshold
(parsed, never evaluated), the series placed in time, and its chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from releasegate.evidence.results import CheckResult, Measurement
from releasegate.report.charts import metric_series as series_chart
from releasegate.report.model import metric_series, parse_threshold

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param("result >= 0.8", (0.8, ">="), id="result-first"),
        pytest.param("0.8 <= result", (0.8, ">="), id="number-first-read-from-result"),
        pytest.param("result < 500", (500.0, "<"), id="integer"),
        pytest.param("result > -3", (-3.0, ">"), id="negative"),
        pytest.param("result - before <= 0", None, id="arithmetic"),
        pytest.param("max(result) < 2", None, id="function"),
        pytest.param("0 < result < 1", None, id="chained"),
        pytest.param("result >= before", None, id="no-number"),
        pytest.param("result == 'ok'", None, id="text"),
        pytest.param("result >= True", None, id="boolean"),
        pytest.param("result >=", None, id="syntax-error"),
    ],
)
def test_a_condition_is_a_threshold_only_when_it_compares_result_with_a_number(
    condition: str, expected: tuple[float, str] | None
) -> None:
    threshold = parse_threshold(condition)

    found = (threshold.value, threshold.operator) if threshold else None
    assert found == expected
    assert threshold is None or threshold.text == condition


def measured(number: int, value: float | str | None, outcome: str, at: str) -> Measurement:
    return Measurement(
        name=f"cache hit rate #{number}",
        value=value,
        threshold="result >= 0.8",
        source="prometheus",
        at=at,
        outcome=outcome,
        note=f"note {number}",
    )


def test_a_series_is_placed_in_seconds_since_its_first_measurement() -> None:
    """Numbers are plotted; no data and text are kept apart, with their outcome and note."""
    check = CheckResult(
        id="suites/post_deploy/test_post_deploy_metrics.py::test_metric[cache hit rate]",
        stage="post_deploy",
        outcome="failed",
        measurements=[
            measured(1, 0.93, "success", "2026-12-04T13:43:12.558+00:00"),
            measured(2, None, "inconclusive", "2026-12-04T13:43:22.558+00:00"),
            measured(3, 0.71, "failure", "2026-12-04T13:43:32.808+00:00"),
            measured(4, "down", "error", "2026-12-04T13:43:42.558+00:00"),
        ],
    )

    series = metric_series(check)

    assert series is not None
    assert (series.name, series.by_time) == ("cache hit rate", True)
    assert series.plotted() == [(0.0, 0.93, "success"), (20.25, 0.71, "failure")]
    assert [(p.number, p.value, p.outcome, p.note) for p in series.unplotted] == [
        (2, None, "inconclusive", "note 2"),
        (4, "down", "error", "note 4"),
    ]
    assert series.threshold is not None
    assert series.threshold.value == 0.8


def test_a_check_without_timed_outcomes_has_no_series() -> None:
    """A log check's one measurement (a count against a maximum) is not a series."""
    log = CheckResult(
        id="suites/post_deploy/test_post_deploy_metrics.py::test_log[errors]",
        stage="post_deploy",
        outcome="passed",
        measurements=[Measurement(name="matching lines", value=0, threshold=5, comparison="<=")],
    )

    assert metric_series(log) is None


def _svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (our own chart, just rendered: not untrusted XML)


def _circles(svg: ET.Element) -> list[ET.Element]:
    return [c for c in svg.iter(f"{SVG}circle") if float(c.get("r", "0")) > 0]


def _series_lines(svg: ET.Element) -> list[str]:
    """The `d` of every line drawn by a series (not the axes' guides)."""
    return [
        path.get("d", "")
        for group in svg.iter(f"{SVG}g")
        if "series" in group.get("class", "").split()
        for path in group.iter(f"{SVG}path")
        if "line" in path.get("class", "").split()
    ]


POINTS = [
    (0.0, 0.93, "success"),
    (10.0, 0.71, "failure"),
    (20.0, 0.9, "success"),
    (30.0, 0.85, "inconclusive"),
]


def test_the_chart_has_a_point_per_measurement_and_the_threshold_line() -> None:
    """Four numbers, four dots, each with its outcome's mark; one horizontal line between
    the value above the threshold and the one below it, labelled with the condition."""
    svg = _svg(series_chart("cache hit rate", "seconds", POINTS, (0.8, "result >= 0.8")))

    dots = _circles(svg)
    (line,) = _series_lines(svg)
    start, end = re.findall(r"[ML]\s*([\d.]+)\s+([\d.]+)", line)
    labels = [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") == "label"]
    heights = [float(c.get("cy", "0")) for c in dots]
    assert len(dots) == 4
    assert start[1] == end[1]  # horizontal
    assert min(heights) < float(start[1]) < max(heights)
    assert sorted(labels) == sorted(["✓", "✗", "✓", "?", "result >= 0.8"])
    assert svg.find(f"{SVG}title") is not None


def test_without_a_threshold_no_line_is_drawn() -> None:
    svg = _svg(series_chart("cache hit rate", "seconds", POINTS, None))

    assert len(_circles(svg)) == 4
    assert _series_lines(svg) == []
