"""A small Prometheus HTTP API client for the SLO gate: instant queries, one number each.

Every problem is missing evidence with the query shown: Prometheus unreachable, an error
answer, or a query that returns no series (an SLI computed from nothing is not a pass).
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from releasegate.errors import PrometheusUnavailable


@dataclass(frozen=True)
class Prometheus:
    """`url` is Prometheus's base URL (http://host:9090)."""

    url: str
    timeout_s: float = 10.0
    transport: httpx.BaseTransport | None = None

    def query(self, promql: str, at: float | None = None) -> float:
        """The single value of an instant query. Several series are an error: the query
        must aggregate (sum, histogram_quantile over `sum by (le)`, ...)."""
        result, where = self._ask(promql, at)
        if isinstance(result, float):
            return _number(result, where)
        if len(result) > 1:
            raise PrometheusUnavailable(
                f"the query returned {len(result)} series; aggregate it to one ({where})"
            )
        return _number(result[0]["value"][1], where)

    def wait_until_scraping(self, timeout_s: float) -> bool:
        """Wait until Prometheus has scraped its targets once (`sum(up) >= 1`), for at most
        `timeout_s`; whether it has. A Prometheus that just started has not: traffic before
        its first scrape is invisible to increase() and rate()."""
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(PrometheusUnavailable):
                if self.query("sum(up)") >= 1:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.25)

    def buckets(self, promql: str, at: float | None = None) -> list[tuple[float, float]]:
        """A histogram's cumulative buckets, `(le, value)` sorted by `le` (+Inf last), from a
        query that keeps the `le` label (`sum by (le) (rate(x_bucket[5m]))`)."""
        result, where = self._ask(promql, at)
        if isinstance(result, float):
            raise PrometheusUnavailable(f"the query returned a scalar, not buckets ({where})")
        buckets: list[tuple[float, float]] = []
        for series in result:
            le = (series.get("metric") or {}).get("le")
            if le is None:
                raise PrometheusUnavailable(f"a series without an `le` label ({where})")
            value = float(series["value"][1])
            buckets.append((float(le), 0.0 if math.isnan(value) else value))
        buckets.sort()
        if buckets[-1][0] != math.inf:
            raise PrometheusUnavailable(f"no +Inf bucket among the series ({where})")
        return buckets

    def _ask(self, promql: str, at: float | None) -> tuple[float | list[dict[str, Any]], str]:
        """The answer's scalar, or its non-empty vector; every other answer raises."""
        result, where = self.answer(promql, at)
        if not isinstance(result, float) and not result:
            raise PrometheusUnavailable(f"the query returned no series ({where})")
        return result, where

    def answer(
        self, promql: str, at: float | None = None
    ) -> tuple[float | list[dict[str, Any]], str]:
        """The answer's scalar or its vector (empty when no series matched), and where it was
        asked (URL and query) for messages; PrometheusUnavailable when there is no answer."""
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        where = f"{self.url}/api/v1/query, query {promql!r}"
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.get(f"{self.url}/api/v1/query", params=params)
        except httpx.HTTPError as exc:
            raise PrometheusUnavailable(
                f"Prometheus unreachable: {type(exc).__name__}: {exc} ({where})"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise PrometheusUnavailable(
                f"Prometheus answered {response.status_code}, not JSON: {response.text[:120]!r}"
                f" ({where})"
            ) from None
        if body.get("status") != "success":
            raise PrometheusUnavailable(
                f"Prometheus refused the query: {body.get('errorType')}: {body.get('error')}"
                f" ({where})"
            )
        data = body.get("data") or {}
        result = data.get("result")
        if data.get("resultType") == "scalar" and isinstance(result, list):
            return float(result[1]), where
        return list(result or []), where


def _number(text: Any, where: str) -> float:
    value = float(text)
    if math.isnan(value):
        # rate() over a window with no requests divides 0 by 0
        raise PrometheusUnavailable(f"the query returned NaN: no data in its window ({where})")
    return value


def render(query: str, window: str, quantile: float | None = None) -> str:
    """A configured query with `{window}` and `{quantile}` filled in."""
    text = query.replace("{window}", window)
    if quantile is not None:
        text = text.replace("{quantile}", f"{quantile:g}")
    return text


_QUANTILE_OF = re.compile(r"^\s*histogram_quantile\s*\(\s*\{quantile\}\s*,(.*)\)\s*$", re.DOTALL)


def bucket_query(latency_query: str) -> str | None:
    """The buckets under a `histogram_quantile({quantile}, BUCKETS)` query (BUCKETS, which
    keeps `le`); None for a query of another shape (then there is no interval to read)."""
    found = _QUANTILE_OF.match(latency_query)
    return found.group(1).strip() if found else None
