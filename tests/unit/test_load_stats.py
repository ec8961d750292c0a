"""Locust's statistics: nearest-rank percentiles from its histograms, totals across endpoints,
request rate, and files that are missing or broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasegate.errors import StatsUnreadable
from releasegate.load.stats import aggregate, percentile, read_history, read_stats


@pytest.mark.parametrize(
    ("histogram", "q", "expected"),
    [
        pytest.param({}, 0.95, None, id="empty: no percentile, not 0"),
        pytest.param({12: 1}, 0.99, 12.0, id="one sample"),
        pytest.param({10: 100}, 0.95, 10.0, id="all equal"),
        pytest.param({1: 95, 100: 5}, 0.95, 1.0, id="95 of 100 at 1 ms: p95 is 1"),
        pytest.param({1: 94, 100: 6}, 0.95, 100.0, id="94 of 100 at 1 ms: p95 is 100"),
        pytest.param({5: 1, 7: 1, 9: 1, 11: 1}, 0.5, 7.0, id="median of 4: nearest rank 2"),
        pytest.param({3: 2, 1: 2}, 0.75, 3.0, id="keys in any order"),
    ],
)
def test_percentiles_use_the_nearest_rank(
    histogram: dict[int, int], q: float, expected: float | None
) -> None:
    assert percentile(histogram, q) == expected


def entry(
    name: str, requests: int, failures: int, times: dict[str, int], start: float, last: float
) -> dict[str, object]:
    return {
        "name": name,
        "method": "GET",
        "num_requests": requests,
        "num_failures": failures,
        "response_times": times,
        "start_time": start,
        "last_request_timestamp": last,
        "num_reqs_per_sec": {str(int(start)): requests},
    }


def test_stats_are_read_per_endpoint_and_in_total(tmp_path: Path) -> None:
    path = tmp_path / "locust.json"
    path.write_text(
        json.dumps(
            [
                entry("GET /", 90, 0, {"2": 90}, 100.0, 110.0),
                entry("GET /api/tickets", 10, 2, {"400": 10}, 101.0, 105.0),
            ]
        )
    )

    stats = read_stats(path)

    assert [e.label for e in stats.endpoints] == ["GET /", "GET /api/tickets"]
    assert stats.total.requests == 100
    assert stats.total.failures == 2
    assert stats.total.failure_ratio == pytest.approx(0.02)
    assert stats.total.percentile(0.90) == 2.0
    assert stats.total.percentile(0.95) == 400.0
    assert stats.total.rps == pytest.approx(10.0)  # 100 requests from t=100 to t=110


def test_a_run_with_no_requests_has_no_ratio_and_no_rate() -> None:
    """Locust says 0.0 failures when nothing ran; here it stays unknown."""
    total = aggregate([])

    assert total.requests == 0
    assert total.failure_ratio is None
    assert total.rps is None
    assert total.percentile(0.95) is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, "Locust wrote no statistics", id="missing"),
        pytest.param('[{"name": "x"', "unreadable statistics", id="truncated"),
        pytest.param('{"a": 1}', "expected a list", id="not a list"),
        pytest.param('[{"name": "x"}]', "unexpected statistics entry", id="missing fields"),
    ],
)
def test_unreadable_statistics_say_what_is_wrong(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "locust.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(StatsUnreadable, match=expected):
        read_stats(path)


def test_history_keeps_the_aggregated_rows(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats_history.csv"
    path.write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%\n"
        "100,0,,Aggregated,0.000000,0.000000,N/A,N/A\n"
        "101,5,GET,GET /,3.0,0,2,5\n"
        "101,5,,Aggregated,12.5,0,3,9\n"
    )

    points = read_history(path)

    assert [(p.timestamp, p.users, p.rps, p.p50_ms, p.p95_ms) for p in points] == [
        (100, 0, 0.0, None, None),
        (101, 5, 12.5, 3.0, 9.0),
    ]
    assert read_history(tmp_path / "missing.csv") == []


def test_the_guards_answered_statistics_are_read_beside_locusts(tmp_path: Path) -> None:
    """Locust's histogram holds 80 refused requests at 5 ms; the guard's file tells them apart."""
    path = tmp_path / "locust.json"
    path.write_text(json.dumps([entry("GET /", 100, 80, {"5": 80, "300": 20}, 100.0, 110.0)]))
    (tmp_path / "locust_answered.json").write_text(
        json.dumps(
            {
                "version": 1,
                "endpoints": [
                    {
                        "method": "GET",
                        "name": "GET /",
                        "answered": 20,
                        "unanswered": 80,
                        "answered_times": {"300": 20},
                        "unanswered_times": {"5": 80},
                    }
                ],
            }
        )
    )

    total = read_stats(path).total

    assert (total.answered_requests, total.unanswered) == (20, 80)
    assert total.answered_times == {300: 20}
    assert total.answered_rps == pytest.approx(2.0)
    assert total.rps == pytest.approx(10.0)


def test_without_the_guards_file_failures_leave_answered_unknown(tmp_path: Path) -> None:
    path = tmp_path / "locust.json"
    path.write_text(json.dumps([entry("GET /", 100, 80, {"5": 80, "300": 20}, 100.0, 110.0)]))

    total = read_stats(path).total

    assert total.answered_requests is None
    assert total.answered_times is None


def test_a_broken_answered_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "locust.json"
    path.write_text(json.dumps([entry("GET /", 1, 0, {"5": 1}, 100.0, 110.0)]))
    (tmp_path / "locust_answered.json").write_text('{"version": 1}')

    with pytest.raises(StatsUnreadable, match="unexpected answered-request statistics"):
        read_stats(path)
