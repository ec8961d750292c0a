"""What an endpoint or page must answer, checked against a `Probe`. Pure; no pytest.

Each function returns the problems it found as sentences that name the URL, what came back and
what was expected; an empty list means the expectation holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from releasegate.probe import Probe
from releasegate.units import format_duration


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
    if text is not None and text not in probe.response.text:
        problems.append(
            f"{probe.label}: body ({len(probe.response.text)} chars) does not contain {text!r}"
        )
    if json_subset:
        try:
            body = probe.response.json()
        except ValueError:
            problems.append(f"{probe.label}: body is not JSON, expected fields {list(json_subset)}")
        else:
            problems += [f"{probe.label}: {p}" for p in _subset_mismatches(json_subset, body)]
    return problems
