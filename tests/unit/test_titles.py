"""Check titles: the first sentence of a check's docstring with its parametrization filled in,
or its name in words; never an exception, never two parametrizations sharing one."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasegate.titles import (
    TITLE_LIMIT,
    check_title,
    first_sentence,
    humanise,
    placeholders,
    short_check_id,
    split_check_id,
    title_from_check_id,
)


@dataclass(frozen=True)
class Named:
    """A config entry with a name (a page, an endpoint, an objective)."""

    name: str
    path: str = "/x"


@dataclass(frozen=True)
class Unnamed:
    name: str | None = None

    def __str__(self) -> str:
        return "unnamed entry"


class BadFormat:
    def __format__(self, spec: str) -> str:
        raise RuntimeError("cannot format")


class BadName:
    @property
    def name(self) -> str:
        raise RuntimeError("no name")

    def __str__(self) -> str:
        return "bad-name"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (None, ""),
        ("", ""),
        ("The page loads.", "The page loads"),
        ("  The page\n    loads in time.\n\n    Details here.", "The page loads in time"),
        ("One. Two.\nThree.", "One. Two. Three"),
        ("Uses `min_requests` of `[load]`.", "Uses min_requests of [load]"),
        ("It waits...", "It waits..."),
        ("\n    Leading blank lines are skipped.\n", "Leading blank lines are skipped"),
    ],
    ids=[
        "none",
        "empty",
        "one-line",
        "up-to-the-blank-line",
        "whole-first-paragraph",
        "backticks",
        "ellipsis-kept",
        "leading-newline",
    ],
)
def test_first_sentence(doc: str | None, expected: str) -> None:
    assert first_sentence(doc) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("test_checkout_page_loads", "Checkout page loads"),
        ("test_p95__latency", "P95 latency"),
        ("check_something", "Check something"),
        ("test_", "Test_"),
        ("test", "Test"),
    ],
)
def test_humanise(name: str, expected: str) -> None:
    assert humanise(name) == expected


@pytest.mark.parametrize(
    ("doc", "name", "params", "param_id", "expected"),
    [
        # plain checks
        ("The page loads.", "test_x", {}, None, "The page loads"),
        (None, "test_checkout_page_loads", {}, None, "Checkout page loads"),
        (None, "test_page_loads", {"page": Named("home")}, "/", "Page loads (/)"),
        # {id}: the text in brackets
        (
            "Overall {id} latency under load is within its threshold.",
            "test_overall_latency_is_within_threshold",
            {"q": 0.95, "key": "p95_ms"},
            "p95",
            "Overall p95 latency under load is within its threshold",
        ),
        # an argument: its name when it has a text one, else the value itself
        (
            "The {objective} objective is met",
            "t",
            {"objective": Named("p95 latency")},
            "p95",
            "The p95 latency objective is met",
        ),
        (
            "Header {check} on {path}",
            "t",
            {"check": "csp", "path": "/"},
            "csp /",
            "Header csp on /",
        ),
        ("Entry {entry}", "t", {"entry": Unnamed()}, "e", "Entry unnamed entry"),
        ("Entry {entry}", "t", {"entry": BadName()}, "e", "Entry bad-name"),
        ("Host {host}", "t", {"host": ("example.com", 443)}, "h", "Host ('example.com', 443)"),
        # None: a placeholder check (nothing configured) reads as its id
        (
            "The {objective} objective is met",
            "t",
            {"objective": None},
            "no-objectives",
            "The no-objectives objective is met",
        ),
        # format specs and conversions on the value
        ("Quantile {q:.0%}", "t", {"q": 0.95}, "p95", "Quantile 95%"),
        ("Quoted {name!r}", "t", {"name": "a"}, "a", "Quoted 'a'"),
        # literal braces
        ("Sends {{json}} to {id}", "t", {"x": 1}, "/api", "Sends {json} to /api"),
        # parametrized, no placeholder: the id after it
        ("The page loads.", "t", {"page": Named("home")}, "home", "The page loads (home)"),
        # backticks are for engineers
        ("The `{id}` endpoint answers", "t", {"e": 1}, "GET /`a`", "The GET /a endpoint answers"),
    ],
    ids=[
        "docstring",
        "no-docstring",
        "no-docstring-parametrized",
        "id",
        "name-attribute",
        "str-values",
        "name-not-str",
        "name-property-fails",
        "tuple-value",
        "none-value-reads-as-the-id",
        "format-spec",
        "conversion",
        "escaped-braces",
        "no-placeholder-gets-the-id",
        "backticks-stripped",
    ],
)
def test_check_title(
    doc: str | None, name: str, params: dict[str, object], param_id: str | None, expected: str
) -> None:
    assert check_title(doc, name, params, param_id) == expected


@pytest.mark.parametrize(
    ("doc", "params", "param_id", "expected"),
    [
        ("Page {page} loads", {"other": 1}, "/a", "Page {page} loads (/a)"),  # unknown name
        ("Page {} loads", {"page": 1}, "/a", "Page {} loads (/a)"),  # positional
        ("Page {0} loads", {"page": 1}, "/a", "Page {0} loads (/a)"),
        ("Page {page.path} loads", {"page": Named("p")}, "/a", "Page {page.path} loads (/a)"),
        ("Page {page[0]} loads", {"page": "xy"}, "/a", "Page {page[0]} loads (/a)"),
        ("Ratio {q:.0%}", {"q": "not a number"}, "q", "Ratio {q:.0%} (q)"),  # bad spec
        ("Ratio {q:{w}}", {"q": 1.0, "w": 3}, "q", "Ratio {q:{w}} (q)"),  # nested spec
        ("Ratio {q!x}", {"q": 1.0}, "q", "Ratio {q!x} (q)"),  # unknown conversion
        ("Odd { brace", {"q": 1}, "q", "Odd { brace (q)"),  # not a template
        ("Odd } brace", {"q": 1}, "q", "Odd } brace (q)"),
        ("Value {v}", {"v": BadFormat()}, "v", "Value {v} (v)"),  # the value's format fails
        ("The {id} check", {}, None, "The {id} check"),  # not parametrized: nothing to fill
    ],
    ids=[
        "unknown-name",
        "positional",
        "index",
        "attribute",
        "item",
        "bad-spec",
        "nested-spec",
        "bad-conversion",
        "lone-open-brace",
        "lone-close-brace",
        "format-raises",
        "id-unparametrized",
    ],
)
def test_a_placeholder_that_cannot_be_filled_falls_back_without_raising(
    doc: str, params: dict[str, object], param_id: str | None, expected: str
) -> None:
    assert check_title(doc, "test_x", params, param_id) == expected


def test_titles_are_bounded_and_keep_their_id() -> None:
    """A long sentence is cut with an ellipsis; the id appended after it survives the cut."""
    long = "A very long check title " * 20

    plain = check_title(long, "t", {}, None)
    with_id = check_title(long, "t", {"x": 1}, "the-id")
    huge_id = check_title("Short", "t", {"x": 1}, "x" * 500)
    filled = check_title("{id}", "t", {"x": 1}, "y" * 500)

    assert len(plain) == TITLE_LIMIT
    assert plain.endswith("…")
    assert len(with_id) <= TITLE_LIMIT
    assert with_id.endswith("… (the-id)")
    assert len(huge_id) <= TITLE_LIMIT
    assert huge_id.startswith("Short (x")
    assert len(filled) == TITLE_LIMIT


def test_two_parametrizations_never_share_a_title() -> None:
    ids = ["p95", "p99"]

    titles = {check_title("Latency is fine.", "t", {"q": i}, i) for i in ids}

    assert len(titles) == len(ids)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Page {id} loads", ["id"]),
        ("The {objective} from {source}", ["objective", "source"]),
        ("No placeholder, {{literal}}", []),
        ("Broken { brace", []),
    ],
)
def test_placeholders(sentence: str, expected: list[str]) -> None:
    assert placeholders(sentence) == expected


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        (
            "suites/smoke/test_x.py::test_page_loads",
            ("suites/smoke/test_x.py", "test_page_loads", None),
        ),
        ("test_x.py::Class::test_y", ("test_x.py", "test_y", None)),
        ("a.py::test_y[GET /a::b]", ("a.py", "test_y", "GET /a::b")),
        ("a.py::Class::test_y[x[1]]", ("a.py", "test_y", "x[1]")),
        ("a.py::test_y[unclosed", ("a.py", "test_y[unclosed", None)),
        ("t1", ("", "t1", None)),
    ],
)
def test_split_check_id(check_id: str, expected: tuple[str, str, str | None]) -> None:
    assert split_check_id(check_id) == expected


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        (
            "suites/load/test_load.py::test_overall_latency_is_within_threshold[p95]",
            "Overall latency is within threshold (p95)",
        ),
        ("suites/smoke/test_health.py::test_health_status_is_healthy", "Health status is healthy"),
        ("checks/test_x.py::TestShop::test_checkout_page_loads", "Checkout page loads"),
        ("a.py::test_endpoint[GET /api/`x`]", "Endpoint (GET /api/x)"),
        ("t1", "T1"),
        ("a::t", "T"),
        ("", ""),
    ],
)
def test_title_from_check_id(check_id: str, expected: str) -> None:
    assert title_from_check_id(check_id) == expected


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        ("suites/smoke/test_x.py::test_y[a/b]", "test_x.py::test_y[a/b]"),
        ("test_x.py::C::test_y", "test_x.py::C::test_y"),
        ("t1", "t1"),
    ],
)
def test_short_check_id(check_id: str, expected: str) -> None:
    assert short_check_id(check_id) == expected


# --- the bundled gates' own checks -----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# the team's [[metrics]] and [[logs]] checks: defined by the plugin, imported by each stage
METRIC_CHECKS = ROOT / "src" / "releasegate" / "pytest_plugin" / "metric_checks.py"


def _argnames(decorator: ast.expr) -> set[str]:
    """The argnames of a `pytest.mark.parametrize(...)` decorator (none for any other)."""
    if not (
        isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("parametrize")
    ):
        return set()
    first = decorator.args[0] if decorator.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return {name.strip() for name in first.value.split(",")}
    if isinstance(first, ast.Tuple | ast.List):
        return {e.value for e in first.elts if isinstance(e, ast.Constant)}
    return set()


def _suite_checks() -> list[tuple[str, ast.FunctionDef]]:
    paths = [*sorted((ROOT / "suites").glob("*/test_*.py")), METRIC_CHECKS]
    return [
        (f"{path.relative_to(ROOT)}::{node.name}", node)
        for path in paths
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    ]


# the parameters a suite's conftest (or the plugin) generates, fed to a check through a fixture
# rather than its own signature: the browser's page, which `page_visit` visits
_GENERATED_THROUGH_FIXTURES = {"browser_page"}


def test_every_bundled_check_has_a_checklist_line_for_a_first_sentence() -> None:
    """Each suite test's docstring opens with a line for a stakeholder: one sentence, no
    backticks, no config key or function name, placeholders only for what it is parametrized
    by (its arguments, the page, or the id)."""
    checks = _suite_checks()
    wrong: dict[str, str] = {}
    for where, node in checks:
        doc = ast.get_docstring(node) or ""
        opening = doc.split("\n\n")[0]
        sentence = first_sentence(doc)
        words = re.sub(r"\{[^{}]*\}", "", sentence)
        arguments = {a.arg for a in node.args.args} | _GENERATED_THROUGH_FIXTURES
        arguments |= {name for d in node.decorator_list for name in _argnames(d)}
        unknown = [n for n in placeholders(sentence) if n != "id" and n not in arguments]
        if not sentence or "\n" in opening:
            wrong[where] = "no first line of its own (one line, then a blank line)"
        elif "`" in opening or "_" in words:
            wrong[where] = f"backticks, or a key or function name, in {sentence!r}"
        elif "{" in words or "}" in words:
            wrong[where] = f"a brace that is no placeholder in {sentence!r}"
        elif unknown:
            wrong[where] = f"{unknown} are not parameters of it"
        elif len(sentence) > 100:
            wrong[where] = f"too long for a checklist line: {sentence!r}"

    assert len(checks) >= 56  # 53 in suites/, 3 of the plugin's metric checks
    assert not wrong, wrong


def test_every_placeholder_of_a_bundled_check_fills() -> None:
    """Given a value for each of its parameters, no first sentence falls back (the id is only
    appended when no placeholder is named)."""
    for where, node in _suite_checks():
        sentence = first_sentence(ast.get_docstring(node))
        params: dict[str, object] = dict.fromkeys(placeholders(sentence), "VALUE")
        params.setdefault("other", "VALUE")

        title = check_title(ast.get_docstring(node), node.name, params, "ID")

        assert "{" not in title, where
        if placeholders(sentence):
            assert "VALUE" in title or "ID" in title, where
            assert not title.endswith("(ID)"), where
