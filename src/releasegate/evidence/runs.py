"""Run ids and the reports/ folder: `reports/<run-id>/` per run, `reports/latest` to the newest."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from datetime import datetime
from pathlib import Path

from releasegate.evidence.file_masking import mask_in_place
from releasegate.evidence.results import now
from releasegate.redact import Redactor

LATEST = "latest"
# the bundled reference service's log, in the run folder of the run it was started for
REFERENCE_LOG = "reference-service.log"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def new_run_id(environment: str, at: datetime | None = None) -> str:
    """`20261122T230102Z-local-3f2a`: sortable by time, readable, unique enough to not clash."""
    stamp = (at or now()).strftime("%Y%m%dT%H%M%SZ")
    safe_env = re.sub(r"[^A-Za-z0-9_-]+", "-", environment)[:40] or "env"
    return f"{stamp}-{safe_env}-{secrets.token_hex(2)}"


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id) or run_id == LATEST:
        raise ValueError(
            f"run id {run_id!r} must be 1-128 letters, digits, '.', '_' or '-' and not 'latest'"
        )
    return run_id


def point_latest(reports_dir: Path, run_id: str) -> None:
    """Make `reports/latest` name `run_id`: a relative symlink swapped atomically."""
    link = reports_dir / LATEST
    tmp = reports_dir / f".{LATEST}.{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_id, target_is_directory=True)
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)  # a copy left by a system without symlinks
        tmp.replace(link)
    except OSError:
        tmp.unlink(missing_ok=True)
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        shutil.copytree(reports_dir / run_id, link)


def resolve_run_dir(path: Path) -> Path:
    """`reports/latest` (link or copy) or `reports/<run-id>`, as an existing directory."""
    return path.resolve() if path.is_symlink() else path


def scrub_tree(directory: Path, redactor: Redactor) -> list[Path]:
    """Mask secrets in every file under `directory` (text or not, zips member by member;
    pictures and video hold no text); return the files that held one."""
    if not redactor:
        return []
    scrubbed: list[Path] = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            if mask_in_place(path, redactor):
                scrubbed.append(path)
        except OSError:
            continue  # gone or unreadable meanwhile: nothing this scrub can do about it
    return scrubbed
