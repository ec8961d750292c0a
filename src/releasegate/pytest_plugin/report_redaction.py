"""Redaction of reports: every secret of the environment is masked in what a report carries
(pytest's failure representation, captured output, measurements) before pytest, xdist,
pytest-html, JUnit or Allure see it. Workers redact their own reports: only they hold them whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from releasegate.redact import Redactor


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """Mask secrets in the failure representation and the captured sections, in place."""
    redact = redactor.redact
    if redactor and redactor.contains_secret(str(report.longrepr or "")):
        report.longrepr = _redact_repr(report.longrepr, redact)
    report.sections = [(title, redact(text)) for title, text in report.sections]


def _redact_repr(value: Any, redact: Callable[[str], str]) -> Any:
    """Mask secrets inside pytest's structured failure representation, in place, keeping its
    shape (so the terminal still shows sources, arguments and the crash line as usual)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        value[:] = [_redact_repr(v, redact) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(_redact_repr(v, redact) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            setattr(value, f.name, _redact_repr(getattr(value, f.name), redact))
    return value


def redact_measurement(measurement: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """A measurement with its text values masked (a URL may carry a token)."""
    return {k: redact(v) if isinstance(v, str) else v for k, v in measurement.items()}
