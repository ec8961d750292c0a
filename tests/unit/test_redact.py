"""Secret masking: every form a secret can be written in is masked."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from releasegate.redact import MASK, Redactor
from releasegate.runs import scrub_tree

SECRET = "tok/en&<secret>"


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(SECRET, id="plain"),
        pytest.param(quote(SECRET, safe=""), id="url-encoded"),
        pytest.param(json.dumps(SECRET)[1:-1], id="json-escaped"),
        pytest.param("tok/en&amp;&lt;secret&gt;", id="html-escaped"),
    ],
)
def test_each_written_form_is_masked(written: str) -> None:
    """Plain, URL-encoded, JSON- and HTML-escaped forms of a secret are all masked."""
    text = f"Authorization: Bearer {written} (env=prod)"

    redacted = Redactor.of([SECRET]).redact(text)

    assert written not in redacted
    assert redacted == f"Authorization: Bearer {MASK} (env=prod)"


def test_a_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    """Masking longest first leaves no tail of the longer secret behind."""
    redactor = Redactor.of(["abcd", "abcdefgh-1234"])

    assert redactor.redact("x abcdefgh-1234 y abcd") == f"x {MASK} y {MASK}"


def test_values_too_short_to_mask_are_left_alone() -> None:
    """A two-character value would mangle ordinary text, so it is not masked."""
    redactor = Redactor.of(["on"])

    assert not redactor
    assert redactor.redact("connection on") == "connection on"


def test_scrub_tree_masks_text_files_and_reports_them(tmp_path: Path) -> None:
    """Every text file under a run folder is scrubbed; binary files are left as they are."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "junit.xml").write_text(f"<x>{SECRET}</x>")
    (tmp_path / "clean.json").write_text("{}")
    (tmp_path / "shot.png").write_bytes(b"\x89PNG" + SECRET.encode())

    scrubbed = scrub_tree(tmp_path, Redactor.of([SECRET]))

    assert scrubbed == [tmp_path / "a" / "junit.xml"]
    assert (tmp_path / "a" / "junit.xml").read_text() == f"<x>{MASK}</x>"
    assert (tmp_path / "shot.png").read_bytes().endswith(SECRET.encode())


def test_a_secret_typed_into_a_form_is_masked_in_its_form_encoded_body() -> None:
    """A browser posts `demo pass~1*` as `demo+pass%7E1*`; Python's quote_plus writes
    `demo+pass~1%2A`: both are the secret."""
    redactor = Redactor.of(["demo pass~1*"])

    assert (
        redactor.redact("username=demo&password=demo+pass%7E1*") == f"username=demo&password={MASK}"
    )
    assert redactor.redact("password=demo+pass~1%2A") == f"password={MASK}"


def test_json_literals_from_a_variable_are_not_masked() -> None:
    """`verify_tls = "${VERIFY_TLS}"` with VERIFY_TLS=true: `true` is no secret, and masking it
    would break every JSON file the run writes."""
    redactor = Redactor.of({"true", "False", "a-real-secret-value"})

    text = redactor.redact('{"ok": true, "tls": false, "token": "a-real-secret-value"}')

    assert text == '{"ok": true, "tls": false, "token": "********"}'
