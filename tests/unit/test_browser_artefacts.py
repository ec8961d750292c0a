"""Artefacts are masked on the way into the run folder: secrets in every form, credential
headers and cookie values whatever they are, inside traces (zips) too."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from releasegate.browser.artefacts import ArtefactStore, slug
from releasegate.evidence.file_masking import redact_file
from releasegate.redact import MASK, Redactor

SECRET = "planted-Secret-1b2c3d"
REDACTOR = Redactor.of([SECRET])


def har(entries: list[dict[str, object]]) -> str:
    return json.dumps({"log": {"version": "1.2", "entries": entries}})


ENTRY = {
    "request": {
        "method": "POST",
        "url": f"http://127.0.0.1/login?next={SECRET}",
        "headers": [
            {"name": "Authorization", "value": "Bearer some-session-token"},
            {"name": "Accept", "value": "text/html"},
        ],
        "cookies": [{"name": "session", "value": "server-made-session-id"}],
        "postData": {"text": f"username=demo&password={SECRET}"},
    },
    "response": {
        "status": 303,
        "headers": [{"name": "Set-Cookie", "value": "session=server-made-session-id; HttpOnly"}],
        "cookies": [{"name": "session", "value": "server-made-session-id"}],
    },
}


def test_a_har_loses_secrets_credential_headers_and_cookie_values(tmp_path: Path) -> None:
    source = tmp_path / "network.har"
    source.write_text(har([ENTRY]))

    redact_file(source, tmp_path / "out" / "network.har", REDACTOR)

    text = (tmp_path / "out" / "network.har").read_text()
    assert SECRET not in text
    assert "server-made-session-id" not in text
    assert "some-session-token" not in text
    entry = json.loads(text)["log"]["entries"][0]
    assert entry["request"]["headers"][0]["value"] == MASK
    assert entry["request"]["headers"][1]["value"] == "text/html"  # the rest stays readable
    assert entry["request"]["postData"]["text"] == f"username=demo&password={MASK}"


def test_a_trace_is_masked_member_by_member(tmp_path: Path) -> None:
    """trace.network events (HAR-shaped), trace.trace actions (typed text) and resources."""
    source = tmp_path / "trace.zip"
    with zipfile.ZipFile(source, "w") as trace:
        trace.writestr(
            "trace.network", json.dumps({"type": "resource-snapshot", "snapshot": ENTRY}) + "\n"
        )
        trace.writestr(
            "trace.trace", json.dumps({"method": "fill", "params": {"value": SECRET}}) + "\n"
        )
        trace.writestr("resources/abc.html", f"<p>{SECRET}</p>")
        trace.writestr("resources/frame.jpeg", b"\xff\xd8\xff" + SECRET.encode())

    redact_file(source, tmp_path / "kept.zip", REDACTOR)

    with zipfile.ZipFile(tmp_path / "kept.zip") as kept:
        members = {name: kept.read(name) for name in kept.namelist()}
    assert set(members) == {
        "trace.network",
        "trace.trace",
        "resources/abc.html",
        "resources/frame.jpeg",
    }
    for name in ("trace.network", "trace.trace", "resources/abc.html"):
        assert SECRET.encode() not in members[name], name
    assert b"server-made-session-id" not in members["trace.network"]
    assert members["resources/frame.jpeg"].startswith(b"\xff\xd8\xff")  # pictures are not rewritten


def test_text_that_is_not_utf8_survives_masking(tmp_path: Path) -> None:
    source = tmp_path / "blob.bin"
    source.write_bytes(b"\x80\x81 " + SECRET.encode() + b" \xfe")

    redact_file(source, tmp_path / "out.bin", REDACTOR)

    assert (tmp_path / "out.bin").read_bytes() == b"\x80\x81 " + MASK.encode() + b" \xfe"


def test_the_store_keeps_files_under_the_check_and_returns_relative_paths(tmp_path: Path) -> None:
    store = ArtefactStore(tmp_path, REDACTOR)

    kept = store.keep_text(
        "suites/smoke/test_x.py::test_y[/a b]", "console", f"error: {SECRET}\n", "console.log"
    )

    assert kept.kind == "console"
    assert kept.path.startswith("artefacts/test_y-a-b-")
    assert (tmp_path / kept.path).read_text() == f"error: {MASK}\n"


def test_check_ids_make_distinct_safe_folder_names() -> None:
    first, second = slug("a.py::test[/x?y]"), slug("b.py::test[/x?y]")

    assert first != second
    assert first.startswith("test-x-y-")
    assert "/" not in first
    assert "?" not in first


def test_a_secret_in_a_check_id_is_not_in_its_artefact_folder_name(tmp_path: Path) -> None:
    """A page path with a token in it names no folder after the token."""
    store = ArtefactStore(tmp_path, Redactor.of(["tok3n-Value-42"]))

    folder = store.folder("suites/smoke/test_browser_pages.py::test_page[/d?ref=tok3n-Value-42]")

    assert "tok3n" not in folder.name
    assert folder.parent == tmp_path / "artefacts"
