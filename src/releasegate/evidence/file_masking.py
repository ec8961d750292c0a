"""Masking the files of a run: text, HAR and JSON documents, bytes that are not UTF-8, and zip
archives member by member (traces, Allure attachments), so no secret leaves in any encoding.

Used on artefacts on their way into the run folder (browser/artefacts.py), on the whole run
folder after a run (evidence/runs.py) and on what the report site publishes (report/site.py).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from releasegate.redact import MASK, Redactor

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
