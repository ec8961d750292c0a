"""What an endpoint or page must answer, checked against a `Probe`. Pure; no pytest.

`judge_answer` judges one answer (a `Judged`); `answer_problems` lists what it found wrong as
sentences that name the URL, what came back and what was expected (an empty list: it holds).

Expected text in an HTML answer is looked for in the text a person reads, not in the markup:
`Tom &amp; Jerry` reads "Tom & Jerry" and `Hello <b>world</b>` reads "Hello world", while a
word inside a <script> is not on the page at all. The browser checks judge what Chromium renders;
these HTTP checks read the document with the standard library's HTML parser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from releasegate.outcome import Figures, Judged
from releasegate.probe import Probe
from releasegate.units import format_duration

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Elements whose content is never shown as text.
_HIDDEN = frozenset({"script", "style", "template"})
# Elements that do not break the line: their text runs on with the text around them
# (`Hello <b>world</b>`, `wor<span>d</span>`); every other element separates words.
_INLINE = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font",
        "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup",
        "time", "tt", "u", "var", "wbr",
    }
)  # fmt: skip


class _TextOf(HTMLParser):
    """Collects a document's text: entities decoded, hidden elements left out, a space where
    a block element or a line break separates words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: list[str] = []  # open hidden elements, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden.append(tag)
        elif tag not in _INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            if tag in self._hidden:  # a stray end tag closes nothing
                while self._hidden.pop() != tag:
                    pass  # bounded: `tag` is in the list
        elif tag not in _INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace as one space, none at the ends: what a browser shows of them."""
    return " ".join(text.split())


def html_text(document: str) -> str:
    """The text a person reads on an HTML document: entities decoded, tags gone (inline ones
    joining their words, block ones separating them), <script>, <style> and <template>
    left out, whitespace collapsed. Markup that does not parse is read as far as it goes."""
    parser = _TextOf()
    parser.feed(document)
    parser.close()
    return collapse_whitespace("".join(parser.parts))


def is_html(content_type: str | None) -> bool:
    """Whether a Content-Type header names an HTML document (parameters such as charset
    aside)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type in HTML_TYPES


def _missing_text(label: str, content_type: str | None, body: str, text: str) -> str | None:
    """Why `text` is not in the answer, or None when it is: for HTML, in the text a person reads
    (whitespace collapsed on both sides); for anything else, in the body as it came."""
    if not is_html(content_type):
        if text in body:
            return None
        return f"{label}: body ({len(body)} chars) does not contain {text!r}"
    readable = html_text(body)
    if collapse_whitespace(text) in readable:
        return None
    return (
        f"{label}: the page's text ({len(readable)} chars, markup aside) does not contain"
        f" {text!r}; it reads {readable[:160]!r}"
    )


def _subset_mismatches(expected: Mapping[str, Any], actual: Any, prefix: str = "") -> list[str]:
    if not isinstance(actual, dict):
        return [f"{prefix or 'body'} is {type(actual).__name__}, expected an object"]
    problems: list[str] = []
    for key, want in expected.items():
        where = f"{prefix}.{key}" if prefix else key
        if key not in actual:
            problems.append(f"{where} is missing")
        elif isinstance(want, dict):
            problems += _subset_mismatches(want, actual[key], where)
        elif actual[key] != want:
            problems.append(f"{where} is {json.dumps(actual[key])}, expected {json.dumps(want)}")
    return problems


def answer_problems(
    probe: Probe,
    statuses: tuple[int, ...],
    text: str | None = None,
    json_subset: Mapping[str, Any] | None = None,
) -> list[str]:
    """Status, body text and JSON fields that differ from what was expected."""
    if probe.response is None:
        return [
            f"{probe.label}: no response within its timeout of {format_duration(probe.timeout_s)}"
        ]
    problems: list[str] = []
    if probe.status not in statuses:
        wanted = " or ".join(str(s) for s in statuses)
        problems.append(f"{probe.label} answered {probe.status}, expected {wanted}")
    if text is not None:
        content_type = probe.response.headers.get("content-type")
        problem = _missing_text(probe.label, content_type, probe.response.text, text)
        if problem is not None:
            problems.append(problem)
    if json_subset:
        try:
            body = probe.response.json()
        except ValueError:
            problems.append(f"{probe.label}: body is not JSON, expected fields {list(json_subset)}")
        else:
            problems += [f"{probe.label}: {p}" for p in _subset_mismatches(json_subset, body)]
    return problems


def judge_answer(
    probe: Probe,
    statuses: tuple[int, ...],
    text: str | None = None,
    json_subset: Mapping[str, Any] | None = None,
) -> Judged:
    """The answer judged: a failure lists every problem (`answer_problems`), `measured` is the
    status (None: no answer in time) against the expected ones."""
    problems = answer_problems(probe, statuses, text, json_subset)
    figures = Figures(measured=probe.status, limit=list(statuses), where=probe.url)
    if problems:
        return Judged.failed("; ".join(problems), **figures)
    return Judged.passed(f"{probe.label} answered {probe.status} as expected", **figures)
