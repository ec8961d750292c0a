"""The service level indicators a stakeholder follows from release to release, read from a
run's checks: latency percentiles, error ratio and availability (the SLO gate, per source),
each page's LCP and CLS (the browser checks), and load throughput (the load gate).

Each comes with the objective it was held to, so a chart can draw it as a line, and with its
interval when the gate measured one, so a comparison can say whether it really moved."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from releasegate.evidence.results import CheckResult, Measurement

_LOW, _HIGH = " interval low", " interval high"
# SLO objectives charted, by measurement name (p50 and rate limiting stay on the run page)
_SLO_NAMES = {"p95": "p95 latency", "p99": "p99 latency"}
_SLO_RATIOS = {"error ratio": "error ratio", "availability": "availability"}
_PAGE_VITALS = {
    "largest contentful paint": "largest contentful paint (LCP)",
    "cumulative layout shift": "cumulative layout shift (CLS)",
}
_THROUGHPUT = "requests/s answered"
_PARAMS = re.compile(r"\[(?P<params>.*)\]$")
# the order charts appear in
KEYS = (
    "p95 latency",
    "p99 latency",
    "error ratio",
    "availability",
    "largest contentful paint (LCP)",
    "cumulative layout shift (CLS)",
    "load throughput",
)


class Sli(BaseModel):
    """One indicator as one run measured it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str  # what is charted: "p95 latency"
    series: str  # which line of that chart: the source, the page
    value: float
    unit: str = ""
    objective: float | None = None
    comparison: str | None = None  # how value is held to the objective: "<=", ">="
    low: float | None = None  # the interval the gate measured, when it did
    high: float | None = None
    check: str = ""  # the check's node id

    @property
    def name(self) -> str:
        return f"{self.key} ({self.series})" if self.series else self.key

    def meets(self) -> bool | None:
        """Whether the value meets the objective (None without one)."""
        if self.objective is None or self.comparison is None:
            return None
        return {
            "<=": self.value <= self.objective,
            "<": self.value < self.objective,
            ">=": self.value >= self.objective,
            ">": self.value > self.objective,
        }.get(self.comparison)

    def higher_is_better(self) -> bool:
        return self.comparison in (">=", ">")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _page_of(check_id: str) -> str:
    """`test_x[/dashboard@mobile-chromium]` -> `/dashboard@mobile` (one browser needs no name)."""
    found = _PARAMS.search(check_id)
    if not found:
        return ""
    page = found["params"]
    return page.removesuffix("-chromium")


def _slo(check: CheckResult) -> Iterable[Sli]:
    by_name = {m.name: m for m in check.measurements}
    for m in check.measurements:
        value, objective = _number(m.value), _number(m.threshold)
        key = _SLO_NAMES.get(m.name) or _SLO_RATIOS.get(m.name)
        if key is None or value is None or objective is None or not m.source:
            continue
        low, high = by_name.get(m.name + _LOW), by_name.get(m.name + _HIGH)
        yield Sli(
            key=key,
            series=m.source,
            value=value,
            unit=m.unit,
            objective=objective,
            comparison=m.comparison,
            low=_number(low.value) if low else None,
            high=_number(high.value) if high else None,
            check=check.id,
        )


def _load(check: CheckResult, m: Measurement) -> Sli | None:
    value, objective = _number(m.value), _number(m.threshold)
    if value is None or objective is None:
        return None
    if m.name == _THROUGHPUT:
        key, series = "load throughput", "load gate"
    elif m.name in _SLO_NAMES:
        key, series = _SLO_NAMES[m.name], "load gate"
    else:
        return None
    return Sli(
        key=key,
        series=series,
        value=value,
        unit=m.unit,
        objective=objective,
        comparison=m.comparison,
        check=check.id,
    )


def _page(check: CheckResult, m: Measurement) -> Sli | None:
    key = _PAGE_VITALS.get(m.name)
    value = _number(m.value)
    if key is None or value is None:
        return None
    return Sli(
        key=key,
        series=_page_of(check.id),
        value=value,
        unit=m.unit,
        objective=_number(m.threshold),
        comparison=m.comparison,
        check=check.id,
    )


def indicators(checks: Iterable[CheckResult]) -> list[Sli]:
    """Every indicator the run measured, in chart order; a check that did not run (skipped)
    measured nothing worth charting."""
    found: dict[tuple[str, str], Sli] = {}
    for check in checks:
        if check.outcome == "skipped":
            continue
        if check.stage == "slo":
            for sli in _slo(check):
                found.setdefault((sli.key, sli.series), sli)
            continue
        for m in check.measurements:
            measured = _load(check, m) if check.stage == "load" else _page(check, m)
            if measured is not None:
                found.setdefault((measured.key, measured.series), measured)
    # the load gate's percentiles are the SLO gate's `locust` source: one line, not two
    for key, series in list(found):
        if series == "load gate" and (key, "locust") in found:
            del found[(key, series)]
    order = {key: n for n, key in enumerate(KEYS)}
    return sorted(found.values(), key=lambda s: (order.get(s.key, len(KEYS)), s.series))
