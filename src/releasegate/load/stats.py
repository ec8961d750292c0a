"""Locust's statistics, read from its `--json-file` output (complete at the end of a run, unlike
the CSV summary, which can lag a second behind) and its per-second history CSV.

Percentiles come from Locust's own response-time histogram (milliseconds, rounded as Locust
rounds them), with the nearest-rank method: the smallest recorded time at or below which at
least q of the requests fall. That is how Locust computes the percentiles of its own report.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AGGREGATED = "Aggregated"


class StatsUnreadable(Exception):
    """Locust left no statistics, or statistics this version cannot read."""


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

    @property
    def label(self) -> str:
        return self.name if self.name.startswith(self.method) else f"{self.method} {self.name}"

    @property
    def failure_ratio(self) -> float | None:
        return self.failures / self.requests if self.requests else None

    def percentile(self, q: float) -> float | None:
        return percentile(self.histogram, q)

    @property
    def rps(self) -> float | None:
        """Requests per second over the time requests were sent."""
        if not self.requests or self.start_time is None or self.last_request is None:
            return None
        span = self.last_request - self.start_time
        return self.requests / span if span > 0 else None


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
    for entry in entries:
        histogram.update(entry.histogram)
        per_second.update(entry.per_second)
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
    )


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
    return LoadStats(endpoints=endpoints, total=aggregate(endpoints))


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
