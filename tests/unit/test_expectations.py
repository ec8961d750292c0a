"""What a page or endpoint must contain: in an HTML answer, the text a person reads (entities
decoded, tags gone, scripts left out); in any other answer, the body as it came."""

from __future__ import annotations

import httpx
import pytest

from releasegate.checks.http_expectations import answer_problems, html_text, is_html
from releasegate.probe import Probe

URL = "http://127.0.0.1:8080/"
JSON = '{"name": "Tom &amp; Jerry"}'


def probe(body: str, content_type: str, status: int = 200) -> Probe:
    response = httpx.Response(status, text=body, headers={"content-type": content_type})
    return Probe(method="GET", url=URL, elapsed_s=0.01, attempts=1, response=response, timeout_s=5)


PAGE = """<!doctype html>
<html><head><title>Shop</title>
<style>.total::after { content: "Checkout done" }</style>
<script>window.banner = "Checkout done";</script></head>
<body>
  <h1>Tom &amp; Jerry&#39;s   shop</h1>
  <p>Hello <b>world</b>, your total is <span>42</span>&nbsp;EUR</p>
  <ul><li>first</li><li>second</li></ul>
  <template><p>Checkout done</p></template>
</body></html>"""


@pytest.mark.parametrize(
    ("expected", "found"),
    [
        pytest.param("Tom & Jerry's shop", True, id="entities-and-whitespace"),
        pytest.param("Hello world", True, id="inline-tag"),
        pytest.param("your total is 42 EUR", True, id="span-and-nbsp"),
        pytest.param("Hello\n  world", True, id="expected-whitespace-collapsed"),
        pytest.param("Shop", True, id="title"),
        pytest.param("first second", True, id="list-items-separated"),
        pytest.param("firstsecond", False, id="block-elements-do-not-run-together"),
        pytest.param("Checkout done", False, id="script-style-template-do-not-count"),
        pytest.param("Tom &amp; Jerry", False, id="markup-is-not-text"),
        pytest.param("<b>world</b>", False, id="tags-are-not-text"),
    ],
)
def test_expected_text_of_an_html_page_is_the_text_a_person_reads(
    expected: str, found: bool
) -> None:
    """Entities and inline tags read as their text; scripts, styles and templates are not."""
    problems = answer_problems(probe(PAGE, "text/html; charset=utf-8"), (200,), expected)

    assert (problems == []) is found, problems


def test_a_missing_text_on_a_page_says_what_the_page_reads() -> None:
    """The failure names the URL, the text and the start of what the page reads instead."""
    problems = answer_problems(probe(PAGE, "text/html"), (200,), "Out of stock")

    assert len(problems) == 1
    assert problems[0].startswith(f"GET {URL}: the page's text (")
    assert (
        "does not contain 'Out of stock'; it reads \"Shop Tom & Jerry's shop Hello" in (problems[0])
    )


def test_xhtml_is_read_as_html() -> None:
    body = '<html xmlns="http://www.w3.org/1999/xhtml"><body>A &amp; B</body></html>'

    assert answer_problems(probe(body, "application/xhtml+xml"), (200,), "A & B") == []


@pytest.mark.parametrize(
    ("body", "content_type", "expected", "found"),
    [
        pytest.param(JSON, "application/json", "Tom &amp; Jerry", True, id="json-raw"),
        pytest.param(JSON, "application/json", "Tom & Jerry", False, id="json-no-entities"),
        pytest.param('{"html": "<b>x</b>"}', "application/json", "<b>x</b>", True, id="json-tags"),
        pytest.param("a  b", "text/plain", "a b", False, id="plain-whitespace-as-sent"),
        pytest.param("Hello <b>world</b>", "text/plain", "Hello <b>", True, id="plain-raw"),
    ],
)
def test_other_answers_are_compared_as_they_came(
    body: str, content_type: str, expected: str, found: bool
) -> None:
    """JSON and plain text are not HTML: the expected text is looked for in the raw body."""
    problems = answer_problems(probe(body, content_type), (200,), expected)

    assert (problems == []) is found, problems


@pytest.mark.parametrize(
    ("content_type", "html"),
    [
        pytest.param("text/html", True, id="html"),
        pytest.param("TEXT/HTML; charset=UTF-8", True, id="html-case-and-charset"),
        pytest.param("application/xhtml+xml", True, id="xhtml"),
        pytest.param("application/json", False, id="json"),
        pytest.param("text/plain", False, id="plain"),
        pytest.param(None, False, id="none"),
    ],
)
def test_html_is_told_by_its_content_type(content_type: str | None, html: bool) -> None:
    assert is_html(content_type) is html


def test_broken_markup_is_read_as_far_as_it_goes() -> None:
    """An unclosed tag or a stray end tag neither raises nor hides the text after it."""
    assert html_text("<div>one</span> <p>two <b>three") == "one two three"
    assert html_text("<script>x</script></script>after") == "after"
