"""Metric values measured before the deploy (`before = "baseline"`), kept with the baseline.

The pre-deploy stage (or `releasegate baseline`) writes one file per metric under the run's
folder, `metrics-before/<key>.json` (one per metric, so xdist workers never write the same
file); a later check reads this run's own value first, else the newest one under the reports
folder taken of the same environment and target within `[slo.baseline] max_age`. A value of
another target, too old, or unreadable is not `before`: the condition that needs it is
inconclusive, and the reason is said in words.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releasegate.documents import read_document
from releasegate.errors import EvidenceMissing, MetricBaselineUnreadable
from releasegate.evidence.results import write_atomically
from releasegate.metrics.provider import Provider, Reading, Value

SCHEMA = "releasegate.metric-before/1"
FOLDER = "metrics-before"


@dataclass(frozen=True)
class Before:
    """A metric's value before the deploy, and where and when it was measured."""

    name: str
    value: Value
    environment: str
    target_url: str
    taken_at: str
    path: Path | None = None


@dataclass(frozen=True)
class BeforeSearch:
    """The value found (None when there is none usable) and why the others were not used."""

    found: Before | None
    reason: str


def _key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def write_before(run_dir: Path, before: Before) -> Path:
    """Write `before` into the run's folder, atomically; its path."""
    path = run_dir / FOLDER / f"{_key(before.name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "name": before.name,
        "value": before.value,
        "environment": before.environment,
        "target_url": before.target_url,
        "taken_at": before.taken_at,
    }
    write_atomically(path, json.dumps(document, indent=2) + "\n")
    return path


def take_before(
    name: str, provider: Provider, *, environment: str, target_url: str, folder: Path
) -> tuple[Before, Reading]:
    """Read `provider` once and keep the value in `folder` as metric `name`'s value before
    the deploy. ProviderError when it cannot be read, EvidenceMissing when it has no data
    (nothing is written then: a later check says so instead of comparing with nothing)."""
    reading = provider.read()
    if reading.value is None:
        raise EvidenceMissing(
            f"{name}: no data before the deploy ({reading.note}; {provider.where})"
        )
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    before = Before(name, reading.value, environment, target_url, at)
    return replace(before, path=write_before(folder, before)), reading


def read_before(path: Path) -> Before:
    raw = read_document(path, SCHEMA, MetricBaselineUnreadable)
    try:
        return Before(
            name=str(raw["name"]),
            value=raw["value"],
            environment=str(raw["environment"]),
            target_url=str(raw["target_url"]),
            taken_at=str(raw["taken_at"]),
            path=path,
        )
    except KeyError as exc:
        raise MetricBaselineUnreadable(f"{path}: no {exc}") from None


def find_before(
    name: str,
    *,
    run_dir: Path,
    reports_dir: Path,
    environment: str,
    target_url: str,
    max_age_s: float,
    now: datetime | None = None,
) -> BeforeSearch:
    """The value of metric `name` measured before this deploy: this run's, else the newest
    usable one under `reports_dir`."""
    now = now or datetime.now(UTC)
    key = f"{_key(name)}.json"
    own = run_dir / FOLDER / key
    candidates = [own] if own.is_file() else []
    if reports_dir.is_dir():
        # runs' folders, and `releasegate baseline`'s (reports/baselines/<id>/)
        candidates += [p for p in reports_dir.glob(f"**/{FOLDER}/{key}") if p != own]
    usable: list[tuple[datetime, Before]] = []
    rejected: list[str] = []
    for path in candidates:
        try:
            before = read_before(path)
        except MetricBaselineUnreadable as exc:
            rejected.append(str(exc))
            continue
        problem, taken = _problem(before, environment, target_url, max_age_s, now)
        if problem is None and taken is not None:
            if path == own:
                return BeforeSearch(before, f"measured in this run at {before.taken_at}")
            usable.append((taken, before))
        else:
            rejected.append(f"{path}: {problem}")
    if usable:
        taken, before = max(usable, key=lambda pair: pair[0])
        return BeforeSearch(before, f"measured at {before.taken_at} ({before.path})")
    where = f"under {reports_dir}"
    if not rejected:
        return BeforeSearch(
            None,
            f"no value of {name!r} measured before the deploy {where}: run the pre-deploy"
            " stage (or `releasegate baseline`) first",
        )
    return BeforeSearch(None, f"no usable value of {name!r} before the deploy: {rejected[0]}")


def _problem(
    before: Before, environment: str, target_url: str, max_age_s: float, now: datetime
) -> tuple[str | None, datetime | None]:
    if before.environment != environment:
        return f"taken for env={before.environment}, not env={environment}", None
    if before.target_url.rstrip("/") != target_url.rstrip("/"):
        return f"taken of {before.target_url}, not of this target {target_url}", None
    try:
        taken = datetime.fromisoformat(before.taken_at)
    except ValueError:
        return f"unreadable time {before.taken_at!r}", None
    if taken.tzinfo is None:
        return f"time {before.taken_at!r} has no zone", None
    age = (now - taken).total_seconds()
    if age < -60:
        return f"dated {before.taken_at}, in the future: check the clocks", None
    if age > max_age_s:
        return f"taken {age:.0f}s ago, older than max_age {max_age_s:g}s", None
    return None, taken
