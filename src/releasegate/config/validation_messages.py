"""Pydantic's validation errors as one line per bad key: `<file>: <key path> <what is wrong>`,
with "did you mean ...?" for a mistyped key."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

_PHRASES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "too_short": "must list at least {min_length}",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}


_UNION_TAGS = frozenset({"int", "float", "str", "bool"})


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part or "(" in part:
            continue  # pydantic's names for the branches of a union, not keys
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _fields_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        model = next((a for a in (annotation, *args) if hasattr(a, "model_fields")), None)
        if model is None:
            return []
    # the names written in the file: `for`, not the attribute `for_`
    return [info.alias or name for name, info in getattr(model, "model_fields", {}).items()]


def _number(value: object) -> object:
    return f"{value:g}" if isinstance(value, float) else value


def _describe(error: Any, root: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    path = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields_at(loc, root)
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else f"; known keys: {', '.join(known)}"
        return f"{path}: unknown key{hint}"
    if kind == "literal_error":
        return f"{path} must be one of {error['ctx']['expected']} (got {error['input']!r})"
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ")
        if loc:
            return f"{path} {message}"
        return message
    phrase = _PHRASES.get(kind)
    if phrase is not None:
        text = phrase.format(**{k: _number(v) for k, v in error.get("ctx", {}).items()})
        if kind == "missing":
            return f"{path} {text}"
        return f"{path} {text} (got {error['input']!r})"
    return f"{path}: {error['msg']} (got {error['input']!r})"


def validation_problems(error: ValidationError, label: str, root: type[BaseModel]) -> list[str]:
    """One line per bad key, `<file>: <key path> <what is wrong>`, in the file's order; `root`
    is the model validated (its fields are the known keys a misspelt one is matched against)."""
    # a union (`int | list[int]`) reports once per branch: keep the first per key
    first_per_key = {
        _key_path(tuple(e["loc"])): _describe(e, root) for e in reversed(error.errors())
    }
    return [f"{label}: {text}" for text in first_per_key.values()][::-1]
