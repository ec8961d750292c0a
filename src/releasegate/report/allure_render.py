"""Allure's HTML report of a run, rendered offline by the Allure 3 command line (`npm ci`)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from releasegate.evidence.file_masking import redact_file
from releasegate.evidence.runs import scrub_tree
from releasegate.redact import Redactor


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


def render_allure(allure: Path, results: Path, out: Path, redactor: Redactor) -> str | None:
    """Render allure-results as one HTML file; return a note when that is not possible.
    Rendered in a private folder, and copied into the site masked."""
    marker = out / "index.html"
    if marker.exists() and marker.stat().st_mtime >= results.stat().st_mtime:
        scrub_tree(out, redactor)  # rendered for these results by an earlier build
        return None
    with tempfile.TemporaryDirectory(prefix="releasegate-allure-") as private:
        rendered = Path(private) / "allure"
        try:
            done = subprocess.run(
                [str(allure), "awesome", str(results), "--single-file", "-o", str(rendered)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return redactor.redact(f"Allure report of {results.parent.name} not rendered: {exc}")
        if done.returncode != 0 or not (rendered / "index.html").exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return redactor.redact(
                f"Allure report of {results.parent.name} not rendered: {tail[0]}"
            )
        copy_masked_tree(rendered, out, redactor)
    return None


def copy_masked_tree(source: Path, target: Path, redactor: Redactor) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            redact_file(path, target / path.relative_to(source), redactor)
