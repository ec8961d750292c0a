"""Allure's HTML report of a run, rendered offline by the Allure 3 command line (`npm ci`),
with the history of the earlier runs of its environment.

Allure 3 keeps history in a JSON-lines file (`--history-path`), not in allure-results: each
rendering reads the points in it (one per earlier report: every test's status, message, trace
and duration) for its trend charts, each test's History tab and its new / regressed / fixed
marks, then appends a point of its own. We keep one such file per environment,
`reports/.allure-history/<environment>.jsonl`, holding one point per run (masked; never
published), and give Allure a private copy of it with only the points of the runs that started
before the one rendered. So rendering a run again replaces its point instead of adding a second
one, and a run's report never shows a later run, whatever order runs are rendered in; a run
shows every earlier run when the runs are rendered oldest first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from releasegate.evidence.file_masking import redact_file
from releasegate.evidence.results import write_atomically
from releasegate.evidence.runs import scrub_tree
from releasegate.redact import Redactor

HISTORY_DIR = ".allure-history"  # under reports/: no run id starts with a dot
# earlier runs shown in a report: as many as Allure's trend charts draw; each adds every test's
# status, message and trace to the single file (some 200 KB for a full gate run)
HISTORY_RUNS = 10
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


def find_allure(start: Path) -> Path | None:
    """The Allure 3 command from `npm ci` (node_modules/.bin), or $RELEASEGATE_ALLURE."""
    configured = os.environ.get("RELEASEGATE_ALLURE")
    if configured:
        return Path(configured)
    for folder in (start, *start.parents):
        candidate = folder / "node_modules" / ".bin" / "allure"
        if candidate.exists():
            return candidate
    return None


def history_file(reports_dir: Path, environment: str) -> Path:
    """Where the Allure history of an environment's runs is kept: one file per environment,
    so the runs of staging are not the trend of prod."""
    name = environment
    if not _SAFE_NAME.fullmatch(name):  # a name that is no file name gets a readable one
        readable = re.sub(r"[^A-Za-z0-9_-]+", "-", environment).strip("-")[:40] or "env"
        name = f"{readable}-{hashlib.sha256(environment.encode()).hexdigest()[:8]}"
    return reports_dir / HISTORY_DIR / f"{name}.jsonl"


def render_allure(
    allure: Path,
    results: Path,
    out: Path,
    redactor: Redactor,
    *,
    history: Path | None = None,
    started_at: datetime | None = None,
) -> str | None:
    """Render `results` (`reports/<run-id>/allure-results`) as one HTML file in `out`; return a
    note when that is not possible. Rendered in a private folder, and copied into the site
    masked. With `history` (`history_file`) and the run's start, the report shows the runs of
    the history file that started before this one, and the run's own point is kept there."""
    kept = (
        _RunHistory.read(history, results, started_at)
        if history is not None and started_at is not None
        else None
    )
    unkept = None
    if kept is not None and kept.problem is not None:  # rendered without, and said each time
        unkept = redactor.redact(f"Allure history of {kept.run_id} not kept: {kept.problem}")
        kept = None
    marker = out / "index.html"
    if (
        marker.exists()
        and marker.stat().st_mtime >= results.stat().st_mtime
        and (kept is None or kept.recorded)
    ):
        scrub_tree(out, redactor)  # rendered for these results by an earlier build
        return unkept
    with tempfile.TemporaryDirectory(prefix="releasegate-allure-") as private:
        rendered = Path(private) / "allure"
        argv = [str(allure), "awesome", str(results), "--single-file", "-o", str(rendered)]
        fed = Path(private) / "history.jsonl"
        if kept is not None:
            kept.feed(fed, redactor)
            argv += ["--history-path", str(fed)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return redactor.redact(f"Allure report of {results.parent.name} not rendered: {exc}")
        if done.returncode != 0 or not (rendered / "index.html").exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return redactor.redact(
                f"Allure report of {results.parent.name} not rendered: {tail[0]}"
            )
        note = kept.record(fed, redactor) if kept is not None else unkept
        copy_masked_tree(rendered, out, redactor)
    return note


def copy_masked_tree(source: Path, target: Path, redactor: Redactor) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            redact_file(path, target / path.relative_to(source), redactor)


def _masked(value: Any, redactor: Redactor) -> Any:
    """A JSON value with every string in it masked (keys too), so it stays valid JSON."""
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, list):
        return [_masked(item, redactor) for item in value]
    if isinstance(value, dict):
        return {redactor.redact(k): _masked(v, redactor) for k, v in value.items()}
    return value


def _order(run_id: str, point: dict[str, Any]) -> tuple[int, str]:
    return point["timestamp"], run_id


@dataclass
class _RunHistory:
    """An environment's history file as one run sees it: a line per run,
    `{"run": <run id>, "point": <Allure's history point, named by the run, timed by its start>}`.
    """

    path: Path
    reports_dir: Path  # where the runs are: the points of runs no longer there are dropped
    run_id: str
    timestamp: int  # the run's start, in ms: Allure orders its points by this
    points: dict[str, dict[str, Any]]  # run id -> its point
    problem: str | None = None

    @classmethod
    def read(cls, path: Path, results: Path, started_at: datetime) -> _RunHistory:
        """The points of the file, seen from the run of `results` (`<reports>/<run-id>/
        allure-results`); a line that cannot be read is left out (its run is rendered again
        and writes its point anew)."""
        run_dir = results.parent
        kept = cls(path, run_dir.parent, run_dir.name, int(started_at.timestamp() * 1000), {})
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return kept
        except (OSError, UnicodeDecodeError) as exc:
            kept.problem = f"{path} unreadable ({exc})"
            return kept
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if (
                isinstance(entry, dict)
                and isinstance(entry.get("run"), str)
                and isinstance(entry.get("point"), dict)
                and isinstance(entry["point"].get("timestamp"), int)
            ):
                kept.points[entry["run"]] = entry["point"]
        return kept

    @property
    def recorded(self) -> bool:
        return self.run_id in self.points

    def earlier(self) -> list[dict[str, Any]]:
        """The points of the runs that started before this one, oldest first, the last
        HISTORY_RUNS of them."""
        mine = (self.timestamp, self.run_id)
        runs = sorted(
            (r for r, p in self.points.items() if _order(r, p) < mine),
            key=lambda r: _order(r, self.points[r]),
        )
        return [self.points[r] for r in runs[-HISTORY_RUNS:]]

    def feed(self, fed: Path, redactor: Redactor) -> None:
        """Allure's history file for this rendering (masked again: the environment may have
        a secret more since a point was kept)."""
        fed.write_text(
            "".join(json.dumps(_masked(p, redactor)) + "\n" for p in self.earlier()),
            encoding="utf-8",
        )

    def record(self, fed: Path, redactor: Redactor) -> str | None:
        """Keep the point Allure appended to `fed` as this run's, replacing an earlier one;
        drop the points of runs whose folder is gone. Return a note when it could not."""
        lines = [line for line in fed.read_text(encoding="utf-8").splitlines() if line.strip()]
        try:
            point = json.loads(lines[-1]) if len(lines) == len(self.earlier()) + 1 else None
        except json.JSONDecodeError:
            point = None
        if not isinstance(point, dict):
            return f"Allure history of {self.run_id} not kept: Allure added no history point"
        # named and timed by the run: Allure names every point "Allure Report" and times it
        # when rendered, which would misorder runs rendered again later
        point.update(name=self.run_id, timestamp=self.timestamp)
        # masked with this run's secrets (the others were, with theirs, when they were kept;
        # like the runs' own files, and they are masked again before Allure reads them)
        self.points[self.run_id] = _masked(point, redactor)
        runs = sorted(
            (r for r in self.points if r == self.run_id or (self.reports_dir / r).is_dir()),
            key=lambda r: _order(r, self.points[r]),
        )
        text = "".join(json.dumps({"run": r, "point": self.points[r]}) + "\n" for r in runs)
        try:
            write_atomically(self.path, text)
        except OSError as exc:
            return redactor.redact(f"Allure history of {self.run_id} not kept: {exc}")
        return None
