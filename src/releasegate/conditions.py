"""Conditions of the team's own checks (`[[metrics]] success = "result >= 0.8"`), evaluated
safely: simpleeval's sandbox (no `eval`, no attribute access, no imports, bounded powers and
string lengths) over the names `result` and `before` and a few pure functions.

A condition is compiled once, when the environment is read, so a typo (`reslt`, an unknown
function, a syntax error) is a configuration error naming the file and key, never a check that
errors at run time.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpleeval

# What a condition can read: the measured value and the one measured before the deploy
NAMES = ("result", "before")
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "sum": sum,
    "round": round,
}


# Python that simpleeval would refuse only when evaluated: refused when the file is read
_REFUSED = (
    ast.Attribute,
    ast.Lambda,
    ast.NamedExpr,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Starred,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
)


class ConditionError(ValueError):
    """A condition that could not be evaluated on this value (a text compared with a number,
    `result[0]` of a number): the measurement is an error, not a failure of the target."""


@dataclass(frozen=True)
class Condition:
    """A compiled condition: its text and parsed tree, and whether it reads `before`."""

    text: str
    tree: ast.AST = field(repr=False, compare=False)
    needs_before: bool

    def holds(self, result: object, before: object = None) -> bool:
        """Whether the condition is true of `result` (and `before`). ConditionError when it
        cannot be evaluated on them."""
        evaluator = simpleeval.SimpleEval(
            names={"result": result, "before": before}, functions=dict(FUNCTIONS)
        )
        try:
            value = evaluator.eval(self.text, previously_parsed=self.tree)
        except (simpleeval.InvalidExpression, TypeError, ValueError, ArithmeticError) as exc:
            raise ConditionError(
                f"`{self.text}` cannot be evaluated with result={_short(result)}"
                f"{'' if before is None else f', before={_short(before)}'}: {exc}"
            ) from None
        except (KeyError, IndexError) as exc:
            raise ConditionError(f"`{self.text}`: result={_short(result)} has no {exc}") from None
        if isinstance(value, float) and math.isnan(value):
            raise ConditionError(f"`{self.text}` is NaN with result={_short(result)}")
        return bool(value)


def compile_condition(text: str) -> Condition:
    """`text` compiled; ValueError (one line) for a syntax error, an unknown name or function,
    or anything but one expression."""
    if not text.strip():
        raise ValueError("is empty: write a condition such as 'result >= 0.8'")
    if ";" in text:
        raise ValueError(f"must be one expression, such as 'result >= 0.8': {text!r}")
    try:
        tree = simpleeval.SimpleEval.parse(text.strip())
    except SyntaxError as exc:
        raise ValueError(f"is not a valid expression ({exc.msg}): {text!r}") from None
    if not isinstance(tree, ast.Expr):
        raise ValueError(f"must be one expression, such as 'result >= 0.8': {text!r}")
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in NAMES and node.id not in called:
            known = ", ".join(NAMES)
            raise ValueError(f"uses the unknown name {node.id!r} (names: {known}): {text!r}")
    unknown = sorted(called - set(FUNCTIONS))
    if unknown:
        known = ", ".join(FUNCTIONS)
        raise ValueError(
            f"calls the unknown function {unknown[0]!r} (functions: {known}): {text!r}"
        )
    if any(isinstance(node, _REFUSED) for node in ast.walk(tree)):
        raise ValueError(
            f"uses an attribute, lambda, comprehension or assignment; a condition is names,"
            f" numbers, items, comparisons and the functions {', '.join(FUNCTIONS)}: {text!r}"
        )
    needs_before = any(isinstance(n, ast.Name) and n.id == "before" for n in ast.walk(tree))
    return Condition(text.strip(), tree, needs_before)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
