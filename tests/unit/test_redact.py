"""Secret masking: every form a secret can be written in is masked."""

from __future__ import annotations

import base64
import html
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from releasegate.evidence.runs import scrub_tree
from releasegate.redact import MASK, Redactor

SECRET = "tok/en&<secret>"
# quotes, a space, a slash, markup and non-ASCII: a form for every writer
AWKWARD = "p\"a s/s'wörd&<x>"


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


def _html_numeric(text: str) -> str:
    return text.encode("ascii", "xmlcharrefreplace").decode()


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(html.escape(AWKWARD, quote=True), id="html-escape-quote"),
        pytest.param(
            html.escape(AWKWARD).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
            id="html-decimal-quotes",
        ),
        pytest.param(
            html.escape(AWKWARD).replace("&quot;", "&#x22;").replace("&#x27;", "&apos;"),
            id="html-hex-and-apos",
        ),
        pytest.param(_html_numeric(html.escape(AWKWARD)), id="html-non-ascii-as-reference"),
        pytest.param(quote(AWKWARD, safe=""), id="url-quote-no-safe"),
        pytest.param(quote(AWKWARD), id="url-quote-default-safe"),
        pytest.param(quote_plus(AWKWARD), id="url-quote-plus"),
        pytest.param(quote(AWKWARD, safe="").lower(), id="url-lower-case-hex"),
        pytest.param(quote(AWKWARD, safe="!$&'()*+,;=:@/?"), id="url-httpx-query"),
        pytest.param(quote(AWKWARD, safe="!$%&()*+,/:;=?@"), id="url-browser-query"),
        pytest.param(json.dumps(AWKWARD)[1:-1], id="json-ascii"),
        pytest.param(json.dumps(AWKWARD, ensure_ascii=False)[1:-1], id="json-unicode"),
        pytest.param(json.dumps(AWKWARD)[1:-1].replace("/", "\\/"), id="json-escaped-slash"),
        pytest.param(html.escape(json.dumps(AWKWARD)[1:-1]), id="html-of-json"),
        pytest.param(json.dumps(html.escape(AWKWARD))[1:-1], id="json-of-html"),
        pytest.param(
            html.escape(json.dumps(html.escape(AWKWARD))[1:-1]), id="pytest-html-data-blob"
        ),
        pytest.param(html.escape(html.escape(AWKWARD)), id="html-escaped-twice"),
        pytest.param(base64.b64encode(AWKWARD.encode()).decode(), id="base64"),
        pytest.param(repr(AWKWARD)[1:-1], id="python-repr"),
        pytest.param(json.dumps(repr(AWKWARD)[1:-1])[1:-1], id="json-of-python-repr"),
        pytest.param(ascii(AWKWARD)[1:-1], id="python-ascii"),
    ],
)
def test_each_encoding_of_an_awkward_secret_is_masked(written: str) -> None:
    """A secret with quotes, a space, a slash, markup and non-ASCII is masked however it was
    escaped or encoded on its way into a report."""
    redactor = Redactor.of([AWKWARD])

    redacted = redactor.redact(f"before {written} after")

    assert redacted == f"before {MASK} after", (written, redacted)


@pytest.mark.parametrize("user", ["gate", "ab", "a-longer-user-name", ""])
def test_the_password_of_a_basic_auth_header_is_masked(user: str) -> None:
    """`Authorization: Basic base64(user:password)` does not show the password, whatever
    the user name's length (each of the three byte alignments)."""
    header = base64.b64encode(f"{user}:{AWKWARD}".encode()).decode()
    redactor = Redactor.of([AWKWARD])

    redacted = redactor.redact(f"Authorization: Basic {header}")

    assert MASK in redacted
    assert base64.b64decode(header).decode() not in redacted
    assert not redactor.contains_secret(redacted)


def test_overlapping_secrets_leave_no_tail() -> None:
    """`xxab` and `abcdefgh` overlapping in `xxabcdefgh` are masked as one span."""
    redactor = Redactor.of(["xxab", "abcdefgh"])

    assert redactor.redact("1 xxabcdefgh 2") == f"1 {MASK} 2"


def test_many_secrets_in_a_long_text_are_masked_by_one_expression() -> None:
    """Fifty secrets, each with its many forms, worked out once; a long text masked."""
    redactor = Redactor.of([f"{AWKWARD}-{i}" for i in range(50)])
    text = "lorem &amp; %20 ipsum \\u00f6 " * 20_000 + f"{AWKWARD}-7"

    redacted = redactor.redact(text)

    assert redacted.endswith(MASK)
    assert len(redactor.forms) > 50 * 10  # every form of every secret, worked out once


def test_scrub_tree_masks_files_that_are_not_utf8(tmp_path: Path) -> None:
    """A Locust log with a stray Latin-1 byte, and HTML with binary bits, are scrubbed too,
    their other bytes kept as they were."""
    log = tmp_path / "load" / "locust.log"
    log.parent.mkdir()
    log.write_bytes(b"caf\xe9 \xff\xfe GET /x?token=" + quote(AWKWARD).encode() + b" done\n")
    page = tmp_path / "report.html"
    page.write_bytes(b"<p>\x80\x81" + html.escape(AWKWARD).encode() + b"</p>")

    scrubbed = scrub_tree(tmp_path, Redactor.of([AWKWARD]))

    assert sorted(scrubbed) == sorted([log, page])
    assert log.read_bytes() == b"caf\xe9 \xff\xfe GET /x?token=" + MASK.encode() + b" done\n"
    assert page.read_bytes() == b"<p>\x80\x81" + MASK.encode() + b"</p>"


def test_scrub_tree_masks_inside_zips_and_nested_zips(tmp_path: Path) -> None:
    """A trace.zip, and a zip inside it, are rewritten member by member."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep.txt", f"token={AWKWARD}")
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("trace.network", json.dumps({"url": f"/x?q={quote(AWKWARD)}"}))
        archive.writestr("resources/inner.zip", inner.getvalue())

    scrubbed = scrub_tree(tmp_path, Redactor.of([AWKWARD]))

    assert scrubbed == [trace]
    with zipfile.ZipFile(trace) as archive:
        assert MASK in archive.read("trace.network").decode()
        with zipfile.ZipFile(io.BytesIO(archive.read("resources/inner.zip"))) as nested:
            assert nested.read("deep.txt").decode() == f"token={MASK}"
