"""Check titles: what a person reads instead of a pytest node id.

A check's title is the first sentence of its test function's docstring, with `{argname}`
placeholders filled from its parametrization and `{id}` from its id (the text in brackets):
`"Overall {id} latency under load is within its threshold"` over
`test_overall_latency_is_within_threshold[p95]` reads "Overall p95 latency under load is within
its threshold". Without a docstring the function's name is humanised. Evidence written before
titles existed gets one from its node id (`title_from_check_id`).

Titles never raise: a placeholder that cannot be filled leaves the sentence as written, with
the id after it, so two parametrizations of one check never share a title.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping

# Characters of a title at most; a longer one is cut with an ellipsis
TITLE_LIMIT = 160
# ...of which an id appended in parentheses keeps at most this many
_ID_LIMIT = 60
_ELLIPSIS = "…"
# The placeholder for the parametrization's id
ID_PLACEHOLDER = "id"
_CONVERSIONS: Mapping[str, Callable[[object], str]] = {"r": repr, "s": str, "a": ascii}


class _Unfillable(Exception):
    """A placeholder names nothing the parametrization has, or its value cannot be formatted."""


def first_sentence(doc: str | None) -> str:
    """A docstring's first sentence: up to its first blank line, lines joined, the trailing
    period dropped, Markdown backticks removed. Empty without a docstring."""
    if not doc:
        return ""
    lines: list[str] = []
    for line in doc.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    text = " ".join(" ".join(lines).split()).replace("`", "")
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("..") else text


def humanise(name: str) -> str:
    """A test function's name in words: `test_checkout_page_loads` -> `Checkout page loads`."""
    words = name.removeprefix("test_").replace("_", " ").strip() or name
    words = " ".join(words.split())
    return words[:1].upper() + words[1:]


def placeholders(sentence: str) -> list[str]:
    """The placeholder names in `sentence` (`{id}`, `{page}`), in order; none when the sentence
    is not a valid template (a lone brace)."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(sentence) if field is not None]
    except ValueError:
        return []


def _display(value: object) -> object:
    """What fills a placeholder: a value's `name` when it has a text one (config entries of
    pages, endpoints, objectives), else the value itself (so `{q:.0%}` formats a number)."""
    try:
        name = getattr(value, "name", None)
    except Exception:  # a property that fails: the value itself
        return value
    return name if isinstance(name, str) else value


def _fill(sentence: str, values: Mapping[str, object]) -> tuple[str, bool]:
    """(the sentence with its placeholders filled, whether it had any). `_Unfillable` when one
    names nothing in `values` or its value cannot be formatted as asked."""
    parts: list[str] = []
    named = False
    try:
        parsed = list(string.Formatter().parse(sentence))
    except ValueError as exc:
        raise _Unfillable(str(exc)) from None
    for literal, field, spec, conversion in parsed:
        parts.append(literal)
        if field is None:
            continue
        named = True
        # names only: no attribute access or indexing into a parameter (`{page.__class__}`)
        if not field.isidentifier() or field not in values:
            raise _Unfillable(field)
        value = values[field]
        try:
            if conversion:
                if conversion not in _CONVERSIONS:
                    raise _Unfillable(conversion)
                value = _CONVERSIONS[conversion](value)
            parts.append(format(value, spec or ""))
        except _Unfillable:
            raise
        except Exception as exc:  # a value's own __format__ / __str__ failing: never raises
            raise _Unfillable(field) from exc
    return "".join(parts), named


def _bounded(text: str, limit: int) -> str:
    """One line of at most `limit` characters, without Markdown backticks."""
    text = " ".join(text.replace("`", "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + _ELLIPSIS


def _with_id(sentence: str, param_id: str) -> str:
    suffix = f" ({_bounded(param_id, _ID_LIMIT)})"
    return _bounded(sentence, TITLE_LIMIT - len(suffix)) + suffix


def check_title(
    doc: str | None,
    function_name: str,
    params: Mapping[str, object],
    param_id: str | None,
) -> str:
    """A check's title: its docstring's first sentence with the placeholders filled (`{argname}`
    from `params`, `{id}` from `param_id`), or its function's name humanised. A parametrized
    check whose title names no placeholder, or one that cannot be filled, gets its id appended:
    `Checkout page loads (/checkout)`."""
    sentence = first_sentence(doc)
    if not sentence:
        sentence = humanise(function_name)
        # a function name holds no placeholders: its braces are text
        return _with_id(sentence, param_id) if param_id else _bounded(sentence, TITLE_LIMIT)
    # a parameter that is None (a placeholder check: nothing configured) reads as its id
    values: dict[str, object] = {
        name: param_id if value is None and param_id else _display(value)
        for name, value in params.items()
    }
    if param_id is not None:
        values[ID_PLACEHOLDER] = param_id
    try:
        filled, named = _fill(sentence, values)
    except _Unfillable:
        filled, named = sentence, False
    if param_id and not named:
        return _with_id(filled, param_id)
    return _bounded(filled, TITLE_LIMIT)


def split_check_id(check_id: str) -> tuple[str, str, str | None]:
    """`path::Class::test_x[param]` -> (`path`, `test_x`, `param`); a param may hold `::` or
    brackets of its own."""
    path, sep, rest = check_id.partition("::")
    if not sep:
        path, rest = "", check_id
    param: str | None = None
    bracket = rest.find("[")
    if bracket >= 0 and rest.endswith("]"):
        rest, param = rest[:bracket], rest[bracket + 1 : -1]
    return path, rest.rsplit("::", 1)[-1], param


def title_from_check_id(check_id: str) -> str:
    """A title for a check recorded before titles existed: its test name humanised, its
    parameter after it (`suites/smoke/test_x.py::test_page_loads[/a]` -> `Page loads (/a)`)."""
    _, name, param = split_check_id(check_id)
    sentence = humanise(name) if name else check_id
    return _with_id(sentence, param) if param else _bounded(sentence, TITLE_LIMIT)


def short_check_id(check_id: str) -> str:
    """`suites/smoke/test_x.py::test_y[a]` -> `test_x.py::test_y[a]`: the node id without its
    folders, for people reading a title first."""
    path, sep, name = check_id.partition("::")
    if not sep:
        return check_id
    return f"{path.rsplit('/', 1)[-1]}::{name}"
