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
import io
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.evidence.results import write_atomically
from releasegate.redact import MASK, Redactor

ARTEFACTS_DIR = "artefacts"
# Request and response headers whose values are credentials, by (lower-case) name.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-csrf-token",
        "x-vercel-protection-bypass",
    }
)
# Files that are pictures or video: they hold no text to mask (a screenshot shows masked
# password fields), and rewriting their bytes would only corrupt them.
_BINARY_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webm", ".gif", ".webp", ".woff2"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(check_id: str, limit: int = 80) -> str:
    """A folder name for a check id: readable, filesystem-safe, unique (a short hash)."""
    readable = _UNSAFE.sub("-", check_id.split("::")[-1]).strip("-.") or "check"
    digest = hashlib.sha256(check_id.encode()).hexdigest()[:8]
    return f"{readable[:limit]}-{digest}"


def _mask_pairs(items: Any, *, all_values: bool) -> None:
    if not isinstance(items, list):
        return
    for item in items:
        if not isinstance(item, dict) or "value" not in item:
            continue
        if all_values or str(item.get("name", "")).lower() in CREDENTIAL_HEADERS:
            item["value"] = MASK


def mask_http_entry(entry: Any) -> Any:
    """Mask credential headers and every cookie value of one HAR entry (request and
    response), in place. Trace files hold the same shape per network event."""
    if not isinstance(entry, dict):
        return entry
    for side in ("request", "response"):
        message = entry.get(side)
        if isinstance(message, dict):
            _mask_pairs(message.get("headers"), all_values=False)
            _mask_pairs(message.get("cookies"), all_values=True)
    return entry


def _mask_document(document: Any) -> Any:
    """A HAR file (`log.entries`) or one network event of a trace (`snapshot`)."""
    if not isinstance(document, dict):
        return document
    for entry in (document.get("log") or {}).get("entries") or []:
        mask_http_entry(entry)
    if isinstance(document.get("snapshot"), dict):
        mask_http_entry(document["snapshot"])
    return document


def redact_text(text: str, redactor: Redactor) -> str:
    """Secrets masked in plain text (a console log, a trace's event lines)."""
    return redactor.redact(text)


def redact_har_text(text: str, redactor: Redactor) -> str:
    """A HAR document with credential headers and cookies masked, then every secret."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return redactor.redact(text)  # not JSON after all: still no secret leaves
    return redactor.redact(json.dumps(_mask_document(document), indent=1))


def _redact_lines(text: str, redactor: Redactor) -> str:
    """A JSON-lines file (trace.network): each event masked like a HAR entry."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                event = json.loads(stripped)
            except json.JSONDecodeError:
                out.append(line)
                continue
            out.append(json.dumps(_mask_document(event)) + "\n")
        else:
            out.append(line)
    return redactor.redact("".join(out))


def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def redact_bytes(data: bytes, redactor: Redactor, name: str) -> bytes:
    """The bytes of a file named `name`, secrets masked: text or not (a Locust log with a
    stray byte, binary-ish HTML), and member by member in a zip (nested zips too)."""
    if Path(name).suffix.lower() in _BINARY_SUFFIXES:
        return data
    if _is_zip(data):
        try:
            return _redact_zip_bytes(data, redactor)
        except zipfile.BadZipFile:
            pass  # not a zip after all: masked as bytes below
    # surrogateescape: any byte sequence survives the round trip, text or not
    text = data.decode("utf-8", errors="surrogateescape")
    if name.endswith(".network"):
        text = _redact_lines(text, redactor)
    elif name.endswith(".har"):
        text = redact_har_text(text, redactor)
    else:
        text = redactor.redact(text)
    return text.encode("utf-8", errors="surrogateescape")


def holds_secret(data: bytes, redactor: Redactor, name: str) -> bool:
    """Whether the bytes of `name` (a zip: any member, nested zips too) hold a secret."""
    if not redactor or Path(name).suffix.lower() in _BINARY_SUFFIXES:
        return False
    if _is_zip(data):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(
                    holds_secret(archive.read(info), redactor, info.filename)
                    for info in archive.infolist()
                )
        except zipfile.BadZipFile:
            pass
    return redactor.contains_secret(data.decode("utf-8", errors="surrogateescape"))


def _redact_zip_bytes(data: bytes, redactor: Redactor) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            zout.writestr(info.filename, redact_bytes(zin.read(info), redactor, info.filename))
    return out.getvalue()


def redact_zip(source: Path, target: Path, redactor: Redactor) -> None:
    """A Playwright trace (a zip of event files and resources) rewritten member by member."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, redact_bytes(zin.read(info), redactor, info.filename))


def redact_file(source: Path, target: Path, redactor: Redactor) -> None:
    """Copy `source` to `target` with secrets and credentials masked (by the file's kind).
    Written beside `target` first and renamed, so no half-masked file is ever visible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", delete=False
    ) as t:
        partial = Path(t.name)
    try:
        if source.suffix.lower() in _BINARY_SUFFIXES:
            shutil.copyfile(source, partial)
        else:  # a zip (by its first bytes) member by member, anything else as bytes
            partial.write_bytes(redact_bytes(source.read_bytes(), redactor, source.name))
        shutil.copystat(source, partial)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def mask_in_place(path: Path, redactor: Redactor) -> bool:
    """Mask the secrets in one file, if it holds any (text, bytes that are not UTF-8, zips);
    return whether it did. Pictures and video are left alone: they hold no text."""
    data = path.read_bytes()
    if not holds_secret(data, redactor, path.name):
        return False
    redact_file(path, path, redactor)
    return True


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
