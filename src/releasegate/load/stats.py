"""Locust's statistics, read from its `--json-file` output (complete at the end of a run, unlike
the CSV summary, which can lag a second behind) and its per-second history CSV.

Percentiles come from Locust's own response-time histogram (milliseconds, rounded as Locust
rounds them), with the nearest-rank method: the smallest recorded time at or below which at
least q of the requests fall. That is how Locust computes the percentiles of its own report.

Locust's histogram also holds the requests that failed without an answer (a refused
connection takes 5 ms: a "fast" request). The guard, loaded into Locust, keeps a second file
(`<prefix>_answered.json`) that tells them apart: per request name, a histogram of the answered
requests (successes and HTTP error responses), and a histogram of the unanswered ones
(connection errors, timeouts: any failure without a response). Without that file, a run with
failures cannot tell them apart (`answered` is None).
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from releasegate.errors import StatsUnreadable

AGGREGATED = "Aggregated"
ANSWERED_SUFFIX = "_answered.json"
ANSWERED_VERSION = 1


# Locust 2.47's histogram buckets (`locust.stats.bucket_response_time`): (below this many ms,
# the bucket is this wide)
_WIDTHS = ((100.0, 1.0), (1000.0, 10.0), (10000.0, 100.0))
_WIDEST = 1000.0


def _width(value: float) -> float:
    for below, width in _WIDTHS:
        if value < below:
            return width
    return _WIDEST


def bucket_edges(reported: float) -> tuple[float, float]:
    """The lowest and highest response times (ms) Locust stores as `reported`.

    Locust rounds a response time before counting it: whole milliseconds below 100 ms (taken
    here as exact), then two significant digits with Python's `round` (half to even). From
    100 ms a bucket reaches half its own width up and half the width of the range below it
    down: 1000 holds 995..1050, 1100 holds 1050..1150, 900 holds 895..905. An edge exactly
    half-way may belong to either neighbour; the edges given are the widest the bucket can hold.
    """
    if reported < 100:
        return reported, reported
    return reported - _width(reported - 1) / 2, reported + _width(reported) / 2


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """Nearest-rank percentile of a {response time ms: count} histogram; None when empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    return float(max(histogram))


@dataclass(frozen=True)
class EndpointStats:
    """One request name's figures over the run (or all of them: `AGGREGATED`)."""

    name: str
    method: str
    requests: int
    failures: int
    histogram: Mapping[int, int]
    start_time: float | None
    last_request: float | None
    per_second: Mapping[int, int] = field(default_factory=dict)
    # from the guard's file: requests answered (with their histogram) and not answered (with
    # the times until they failed); None when unknown
    answered: int | None = None
    answered_histogram: Mapping[int, int] | None = None
    unanswered_histogram: Mapping[int, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name if self.name.startswith(self.method) else f"{self.method} {self.name}"

    @property
    def failure_ratio(self) -> float | None:
        return self.failures / self.requests if self.requests else None

    def percentile(self, q: float) -> float | None:
        """Over every request, answered or not, as Locust's own report shows it."""
        return percentile(self.histogram, q)

    @property
    def answered_requests(self) -> int | None:
        """Requests that got a response (successes and HTTP errors); None when unknown. Without
        the guard's file a run without failures was answered throughout."""
        if self.answered is not None:
            return self.answered
        return self.requests if self.failures == 0 else None

    @property
    def unanswered(self) -> int | None:
        answered = self.answered_requests
        return None if answered is None else max(0, self.requests - answered)

    @property
    def answered_times(self) -> Mapping[int, int] | None:
        """The response-time histogram of the answered requests; None when unknown."""
        if self.answered_histogram is not None:
            return self.answered_histogram
        return self.histogram if self.failures == 0 else None

    def latency_samples(self, limit: float) -> Mapping[int, int] | None:
        """The histogram to judge a latency limit by: the answered requests, and the unanswered
        ones that had already waited longer than `limit` before failing (a timeout is at least
        as slow as the time waited). Quicker failures without an answer (refused, reset) have
        no latency; they are left out and counted by the failure ratio. None when unknown."""
        answered = self.answered_times
        if answered is None:
            return None
        judged: Counter[int] = Counter(answered)
        for value, count in self.unanswered_histogram.items():
            if bucket_edges(value)[0] > limit:
                judged[value] += count
        return dict(judged)

    def _span(self) -> float | None:
        if self.start_time is None or self.last_request is None:
            return None
        span = self.last_request - self.start_time
        return span if span > 0 else None

    @property
    def rps(self) -> float | None:
        """Requests per second over the time requests were sent."""
        span = self._span()
        return self.requests / span if self.requests and span else None

    @property
    def answered_rps(self) -> float | None:
        """Answered requests per second over the time requests were sent; None when unknown or
        when no time passed."""
        answered = self.answered_requests
        span = self._span()
        if answered is None or span is None:
            return None
        return answered / span


def _entry(raw: Mapping[str, Any]) -> EndpointStats:
    return EndpointStats(
        name=str(raw["name"]),
        method=str(raw.get("method") or ""),
        requests=int(raw["num_requests"]),
        failures=int(raw["num_failures"]),
        histogram={int(float(k)): int(v) for k, v in (raw.get("response_times") or {}).items()},
        start_time=raw.get("start_time"),
        last_request=raw.get("last_request_timestamp"),
        per_second={int(float(k)): int(v) for k, v in (raw.get("num_reqs_per_sec") or {}).items()},
    )


def aggregate(entries: Iterable[EndpointStats]) -> EndpointStats:
    """Every request name together."""
    entries = list(entries)
    histogram: Counter[int] = Counter()
    per_second: Counter[int] = Counter()
    answered_histogram: Counter[int] = Counter()
    unanswered_histogram: Counter[int] = Counter()
    for entry in entries:
        histogram.update(entry.histogram)
        per_second.update(entry.per_second)
        answered_histogram.update(entry.answered_histogram or {})
        unanswered_histogram.update(entry.unanswered_histogram)
    known = all(e.answered is not None for e in entries)
    starts = [e.start_time for e in entries if e.start_time is not None and e.requests]
    lasts = [e.last_request for e in entries if e.last_request is not None and e.requests]
    return EndpointStats(
        name=AGGREGATED,
        method="",
        requests=sum(e.requests for e in entries),
        failures=sum(e.failures for e in entries),
        histogram=dict(histogram),
        start_time=min(starts) if starts else None,
        last_request=max(lasts) if lasts else None,
        per_second=dict(per_second),
        answered=sum(e.answered or 0 for e in entries) if known and entries else None,
        answered_histogram=dict(answered_histogram) if known and entries else None,
        unanswered_histogram=dict(unanswered_histogram),
    )


def _histogram(raw: object) -> dict[int, int]:
    if not isinstance(raw, dict):
        raise TypeError(f"expected a histogram, got {raw!r}")
    return {int(float(k)): int(v) for k, v in raw.items()}


def read_answered(path: Path) -> dict[tuple[str, str], tuple[int, dict[int, int], dict[int, int]]]:
    """The guard's file: per (method, name), the answered count, the answered histogram and the
    unanswered one. Empty when the file is not there (an older run, or no guard);
    `StatsUnreadable` when it is there and broken."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise StatsUnreadable(f"{path}: unreadable answered-request statistics: {exc}") from None
    try:
        if raw.get("version") != ANSWERED_VERSION:
            raise ValueError(f"version {raw.get('version')!r}, expected {ANSWERED_VERSION}")
        return {
            (str(item["method"]), str(item["name"])): (
                int(item["answered"]),
                _histogram(item["answered_times"]),
                _histogram(item["unanswered_times"]),
            )
            for item in raw["endpoints"]
        }
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise StatsUnreadable(f"{path}: unexpected answered-request statistics: {exc}") from None


def answered_path(stats_json: Path) -> Path:
    """Where the guard keeps the answered-request statistics beside Locust's `--json-file`."""
    return stats_json.with_name(stats_json.stem + ANSWERED_SUFFIX)


@dataclass(frozen=True)
class LoadStats:
    """A run's statistics: per request name, and overall."""

    endpoints: list[EndpointStats]
    total: EndpointStats


def read_stats(path: Path) -> LoadStats:
    """Locust's `--json-file` output; `StatsUnreadable` says what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StatsUnreadable(f"{path}: Locust wrote no statistics") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StatsUnreadable(f"{path}: unreadable statistics: {exc}") from None
    if not isinstance(raw, list):
        raise StatsUnreadable(f"{path}: expected a list of request statistics")
    try:
        endpoints = [_entry(item) for item in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise StatsUnreadable(f"{path}: unexpected statistics entry: {exc}") from None
    answered = read_answered(answered_path(path))
    if answered:
        endpoints = [_with_answered(e, answered) for e in endpoints]
    return LoadStats(endpoints=endpoints, total=aggregate(endpoints))


def _with_answered(
    entry: EndpointStats,
    answered: Mapping[tuple[str, str], tuple[int, dict[int, int], dict[int, int]]],
) -> EndpointStats:
    # an endpoint the guard did not see (all its reports lost) stays unknown
    count, times, unanswered = answered.get((entry.method, entry.name), (None, None, {}))
    return replace(entry, answered=count, answered_histogram=times, unanswered_histogram=unanswered)


@dataclass(frozen=True)
class HistoryPoint:
    """One second of the run, overall: users, requests per second, latency percentiles."""

    timestamp: int
    users: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_history(path: Path) -> list[HistoryPoint]:
    """The aggregated rows of Locust's `_stats_history.csv` (empty if it is not there)."""
    if not path.is_file():
        return []
    points = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("Name") != AGGREGATED:
                continue
            points.append(
                HistoryPoint(
                    timestamp=int(_number(row.get("Timestamp")) or 0),
                    users=int(_number(row.get("User Count")) or 0),
                    rps=_number(row.get("Requests/s")) or 0.0,
                    p50_ms=_number(row.get("50%")),
                    p95_ms=_number(row.get("95%")),
                )
            )
    return points
