"""What the site shows, read from the run folders under reports/ (results.json, decision.json)."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from releasegate.evidence.decide import Decision, decide, decide_missing
from releasegate.evidence.decision_file import DECISION_FILE, DecisionRecord
from releasegate.evidence.results import (
    CheckResult,
    EvidenceError,
    Measurement,
    Results,
    read_results,
)
from releasegate.evidence.runs import LATEST


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
        """The reasons in plain words: the message first, the check after it."""
        if self.record is not None:
            return [
                f"{r.message}" + (f" — {short_check(r.check)}" if r.check else "")
                for r in self.record.reasons
            ]
        return [r.message for r in self.decision.reasons]

    def latency_ms(self) -> list[tuple[str, float, float | None]]:
        """(check, measured latency, threshold) for every check that measured one."""
        found: list[tuple[str, float, float | None]] = []
        for check in self.checks:
            for m in check.measurements:
                if m.name == "latency" and isinstance(m.value, int | float):
                    threshold = m.threshold if isinstance(m.threshold, int | float) else None
                    found.append((short_check(check.id), float(m.value), threshold))
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


_PERCENTILE = re.compile(r"^p\d+(\.\d+)?$")


def short_check(check_id: str) -> str:
    """`suites/smoke/test_x.py::test_y[a]` -> `test_x.py::test_y[a]`."""
    path, _, name = check_id.partition("::")
    return f"{Path(path).name}::{name}" if name else check_id


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
