"""Artefacts of browser checks (screenshot, trace, HAR, console log), masked before they are
written into the run's folder.

A Playwright trace and a HAR record every request's headers and cookies, and a trace records
what was typed into fields. Playwright writes them into a private temporary folder; they reach
the run folder only through `ArtefactStore`, which masks on the way: every secret of the
environment (in each form it can be written in), and the values of credential headers and
cookies whatever they are (a session cookie the target set at sign-in is a credential too).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from releasegate.evidence.file_masking import redact_file
from releasegate.evidence.results import write_atomically
from releasegate.redact import Redactor

ARTEFACTS_DIR = "artefacts"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(check_id: str, limit: int = 80) -> str:
    """A folder name for a check id: readable, filesystem-safe, unique (a short hash)."""
    readable = _UNSAFE.sub("-", check_id.split("::")[-1]).strip("-.") or "check"
    digest = hashlib.sha256(check_id.encode()).hexdigest()[:8]
    return f"{readable[:limit]}-{digest}"


@dataclass(frozen=True)
class Artefact:
    """A file kept for a check: its kind (screenshot, trace, har, console, video) and its
    path relative to the run folder (as results.json lists it)."""

    kind: str
    path: str


@dataclass(frozen=True)
class ArtefactStore:
    """Where a run keeps its artefacts: `<run>/artefacts/<check>/`, masked on the way in."""

    run_dir: Path
    redactor: Redactor

    def folder(self, check_id: str) -> Path:
        # the id may hold a secret (a page path with a token in it): not in a folder name
        return self.run_dir / ARTEFACTS_DIR / slug(self.redactor.redact(check_id))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.run_dir).as_posix()

    def keep_file(self, check_id: str, kind: str, source: Path, name: str) -> Artefact:
        target = self.folder(check_id) / name
        redact_file(source, target, self.redactor)
        return Artefact(kind, self._relative(target))

    def keep_text(self, check_id: str, kind: str, text: str, name: str) -> Artefact:
        target = self.folder(check_id) / name
        write_atomically(target, self.redactor.redact(text))
        return Artefact(kind, self._relative(target))
