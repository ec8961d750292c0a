"""What the site shows, read from the run folders under reports/ (results.json, decision.json)."""

from __future__ import annotations

import ast
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from releasegate.evidence.decide import Decision, Reason, decide, decide_missing
from releasegate.evidence.decision_file import DECISION_FILE, DecisionRecord, ReasonRecord
from releasegate.evidence.results import (
    CheckResult,
    EvidenceError,
    Measurement,
    Results,
    read_results,
)
from releasegate.evidence.runs import LATEST
from releasegate.titles import short_check_id, title_from_check_id


@dataclass(frozen=True)
class RunView:
    """One run as the site shows it."""

    run_id: str
    path: Path
    results: Results | None
    decision: Decision
    record: DecisionRecord | None

    @property
    def verdict(self) -> str:
        return self.record.verdict if self.record else self.decision.verdict.name

    @property
    def started_at(self) -> datetime | None:
        return self.results.run.started_at if self.results else None

    @property
    def environment(self) -> str:
        return self.results.run.environment if self.results else "?"

    @property
    def release_version(self) -> str:
        return (self.results.run.release_version if self.results else None) or "-"

    @property
    def duration_s(self) -> float | None:
        run = self.results.run if self.results else None
        if run is None or run.finished_at is None:
            return None
        return (run.finished_at - run.started_at).total_seconds()

    @property
    def checks(self) -> list[CheckResult]:
        return self.results.checks if self.results else []

    def reasons(self) -> list[str]:
        """The reasons in plain words: the check's title, what was found, the short node id."""
        return [
            f"{r.title or title_from_check_id(r.check)}: {r.message} ({short_check_id(r.check)})"
            if r.check
            else r.message
            for r in self.reason_records()
        ]

    def reason_records(self) -> list[ReasonRecord] | list[Reason]:
        """The reasons as decision.json recorded them, else as `decide` gives them now."""
        return list(self.record.reasons) if self.record is not None else list(self.decision.reasons)

    def latency_ms(self) -> list[tuple[str, float, float | None]]:
        """(check, measured latency, threshold) for every check that measured one."""
        found: list[tuple[str, float, float | None]] = []
        for check in self.checks:
            for m in check.measurements:
                if m.name == "latency" and isinstance(m.value, int | float):
                    threshold = m.threshold if isinstance(m.threshold, int | float) else None
                    title = check.title or title_from_check_id(check.id)
                    found.append((title, float(m.value), threshold))
        return found

    def slo_percentiles(self) -> list[tuple[str, float, float | None, float | None, float | None]]:
        """(label, estimate, interval low, interval high, threshold) of every SLO percentile."""
        found: list[tuple[str, float, float | None, float | None, float | None]] = []
        for check in self.checks:
            if check.stage != "slo":
                continue
            by_name = {m.name: m for m in check.measurements}
            for m in check.measurements:
                if not (_PERCENTILE.match(m.name) and isinstance(m.value, int | float)):
                    continue
                low, high = (
                    by_name.get(f"{m.name} interval low"),
                    by_name.get(f"{m.name} interval high"),
                )
                found.append(
                    (
                        f"{m.source or 'slo'} {m.name}",
                        float(m.value),
                        float(low.value) if low and isinstance(low.value, int | float) else None,
                        float(high.value) if high and isinstance(high.value, int | float) else None,
                        float(m.threshold) if isinstance(m.threshold, int | float) else None,
                    )
                )
        return found

    def baseline_ratios(self) -> list[tuple[str, float, float | None]]:
        """(endpoint, median now / before the deploy, the allowed ratio)."""
        found: list[tuple[str, float, float | None]] = []
        for check in self.checks:
            for m in check.measurements:
                if m.name.endswith(" median vs baseline") and isinstance(m.value, int | float):
                    limit = float(m.threshold) if isinstance(m.threshold, int | float) else None
                    found.append(
                        (m.name.removesuffix(" median vs baseline"), float(m.value), limit)
                    )
        return found

    def median_latency_ms(self) -> float | None:
        values = [v for _, v, _ in self.latency_ms()]
        return statistics.median(values) if values else None


# --- metric series ([[metrics]]: one check, `count` measurements) ----------------------------


@dataclass(frozen=True)
class Threshold:
    """A success condition that compares `result` with a number, read from `result`'s side
    (`0.8 <= result` is `>=` 0.8): the one kind of condition a chart can draw as a line."""

    operator: str
    value: float
    text: str


_OPERATORS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _is_result(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "result"


def _constant_number(node: ast.expr) -> float | None:
    """`0.8`, `500`, `-3` (a sign is a unary operator in the tree); not `True`, not `1e999`."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return None
    if not isinstance(node.value, int | float):
        return None
    value = sign * float(node.value)
    return value if math.isfinite(value) else None


def parse_threshold(condition: str) -> Threshold | None:
    """The number a condition holds `result` to, when it is one comparison of `result` with a
    number (`result >= 0.8`, `0.8 <= result`); None for anything else (`result - before <= 0`,
    `max(result) < 2`, `0 < result < 1`). Only parsed, never evaluated."""
    text = condition.strip()
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(tree, ast.Compare) or len(tree.ops) != 1:
        return None
    operator = _OPERATORS.get(type(tree.ops[0]))
    left, right = tree.left, tree.comparators[0]
    if operator is None:
        return None
    if _is_result(left) and (number := _constant_number(right)) is not None:
        return Threshold(operator, number, text)
    if _is_result(right) and (number := _constant_number(left)) is not None:
        return Threshold(_FLIPPED[operator], number, text)
    return None


@dataclass(frozen=True)
class SeriesPoint:
    """One measurement of a series, placed on the chart's x axis."""

    number: int  # the n of `<metric> #<n>`
    x: float  # seconds since the series' first measurement, or `number`
    value: float | str | None
    outcome: str
    note: str

    @property
    def numeric(self) -> float | None:
        value = self.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) if math.isfinite(value) else None
        return None


@dataclass(frozen=True)
class MetricSeries:
    """The measurements of one check that each carry when they were taken and their outcome
    (`test_metric[<name>]`), with the condition they were held to."""

    name: str
    unit: str
    condition: str | None
    threshold: Threshold | None
    by_time: bool  # x is seconds since the first measurement; else the measurement's number
    points: tuple[SeriesPoint, ...]

    def plotted(self) -> list[tuple[float, float, str]]:
        """(x, value, outcome) of each measurement that is a number."""
        return [(p.x, v, p.outcome) for p in self.points if (v := p.numeric) is not None]

    @property
    def unplotted(self) -> list[SeriesPoint]:
        """Measurements without a number to plot (no data, a text): listed, not drawn."""
        return [p for p in self.points if p.numeric is None]

    @property
    def x_title(self) -> str:
        return "seconds since the first measurement" if self.by_time else "measurement number"

    def summary(self) -> str:
        """`cache hit rate: 3 measurements: 2 success, 1 failure`."""
        counts = Counter(p.outcome for p in self.points)
        described = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        plural = "s" if len(self.points) != 1 else ""
        return f"{self.name}: {len(self.points)} measurement{plural}: {described}"


_NUMBERED = re.compile(r"^(?P<name>.*) #(?P<number>\d+)$")


def _moment(at: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def in_series(m: Measurement) -> bool:
    """Whether a measurement is one of a series: it says when it was taken and its outcome."""
    return m.at is not None and m.outcome is not None


def metric_series(check: CheckResult) -> MetricSeries | None:
    """The series `check` measured, or None when it measured none."""
    measured = [m for m in check.measurements if in_series(m)]
    if not measured:
        return None
    moments = [_moment(m.at or "") for m in measured]
    first = min((t for t in moments if t is not None), default=None)
    by_time = first is not None and all(t is not None for t in moments)
    points: list[SeriesPoint] = []
    for position, (m, moment) in enumerate(zip(measured, moments, strict=True), 1):
        numbered = _NUMBERED.match(m.name)
        number = int(numbered["number"]) if numbered else position
        since_first = moment - first if moment is not None and first is not None else None
        x = since_first.total_seconds() if by_time and since_first is not None else float(number)
        points.append(SeriesPoint(number, round(x, 3), m.value, m.outcome or "", m.note or ""))
    named = _NUMBERED.match(measured[0].name)
    condition = next((m.threshold for m in measured if isinstance(m.threshold, str)), None)
    return MetricSeries(
        name=named["name"] if named else measured[0].name,
        unit=measured[0].unit,
        condition=condition,
        threshold=parse_threshold(condition) if condition is not None else None,
        by_time=by_time,
        points=tuple(points),
    )


_PERCENTILE = re.compile(r"^p\d+(\.\d+)?$")


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"
    if isinstance(value, list):
        return " or ".join(_number(v) for v in value)
    return str(value)


def format_measurement(m: Measurement) -> str:
    """`latency 59.7 ms (<= 5000 ms)`."""
    unit = f" {m.unit}" if m.unit else ""
    text = f"{m.name} {_number(m.value)}{unit}"
    if m.threshold is not None:
        text += f" ({m.comparison or 'vs'} {_number(m.threshold)}{unit})"
    return text


def load_run(path: Path) -> RunView:
    results: Results | None
    try:
        results = read_results(path)
    except EvidenceError as exc:
        results, decision = None, decide_missing(exc)
    else:
        decision = decide(results)
    record: DecisionRecord | None
    try:
        record = DecisionRecord.model_validate_json((path / DECISION_FILE).read_text())
    except (OSError, ValueError):
        record = None
    return RunView(path.name, path, results, decision, record)


def load_runs(reports_dir: Path, exclude: Path | None = None) -> list[RunView]:
    """Every run folder under `reports_dir`, newest first."""
    runs = [
        load_run(p)
        for p in reports_dir.iterdir()
        if p.is_dir()
        and not p.is_symlink()
        and p.name != LATEST
        and (exclude is None or p.resolve() != exclude.resolve())
        and ((p / "results.json").exists() or (p / DECISION_FILE).exists())
    ]
    return sorted(
        runs,
        key=lambda r: (r.started_at.isoformat() if r.started_at else "", r.run_id),
        reverse=True,
    )
