"""Accessibility of a page, by axe-core (Deque's rules engine) run in the page during its visit.

axe-core comes bundled with the `axe-playwright-python` package (its `axe.min.js`); it is
injected through Playwright's evaluate, which the page's Content-Security-Policy does not
restrict. Only violations of impact serious or critical are findings: each is listed with its
rule id, the selectors of the elements and the rule's help page.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from playwright.sync_api import Error as PlaywrightError

AXE_PACKAGE = "axe_playwright_python"
# axe's impacts, least to most severe; the ones below are findings
FINDING_IMPACTS = frozenset({"serious", "critical"})
# only violations are needed: passes and incomplete results make the answer ten times larger
AXE_OPTIONS: Mapping[str, Any] = {"resultTypes": ["violations"]}
_RUN = "options => axe.run(document, options)"
_MAX_SELECTORS = 5


class AxeUnavailable(Exception):
    """axe-core could not be loaded or run in the page (the check cannot judge)."""


@dataclass(frozen=True)
class Violation:
    """One axe rule violated on the page: which rule, how bad, where, and how to fix it."""

    rule: str
    impact: str
    help: str
    help_url: str
    selectors: tuple[str, ...]

    def line(self) -> str:
        shown = ", ".join(self.selectors[:_MAX_SELECTORS])
        more = len(self.selectors) - _MAX_SELECTORS
        if more > 0:
            shown += f" and {more} more"
        return f"{self.rule} ({self.impact}): {self.help} at {shown} ({self.help_url})"


def _selector(target: object) -> str:
    # a node's target is a list of selectors, one per frame or shadow root on the way to it
    if isinstance(target, list):
        return " >>> ".join(_selector(part) for part in target)
    return str(target)


def violations_from(result: Mapping[str, Any]) -> list[Violation]:
    """The serious and critical violations of an `axe.run` result, most severe first; raises
    ValueError for something that is not one (no `violations` list)."""
    raw = result.get("violations")
    if not isinstance(raw, list):
        raise ValueError("axe's result has no violations list")
    found = []
    for item in raw:
        impact = str(item.get("impact") or "")
        if impact not in FINDING_IMPACTS:
            continue
        selectors = tuple(_selector(node.get("target") or []) for node in item.get("nodes") or [])
        found.append(
            Violation(
                rule=str(item.get("id", "")),
                impact=impact,
                help=str(item.get("help", "")),
                help_url=str(item.get("helpUrl", "")).split("?", 1)[0],
                selectors=selectors,
            )
        )
    return sorted(found, key=lambda v: (v.impact != "critical", v.rule))


@functools.cache
def axe_script() -> str:
    """The axe-core that `axe-playwright-python` bundles (read once, 570 kB);
    `AxeUnavailable` when the package is not installed."""
    try:
        bundled = resources.files(AXE_PACKAGE) / "axe.min.js"
        return bundled.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise AxeUnavailable(
            f"axe-core is not available ({exc}); install {AXE_PACKAGE.replace('_', '-')}"
        ) from None


def run_axe(page: Any, script: str | None = None) -> list[Violation]:
    """Inject axe-core into `page` (a Playwright page) and run it on the whole document."""
    try:
        page.evaluate(script or axe_script())
        result = page.evaluate(_RUN, dict(AXE_OPTIONS))
    except PlaywrightError as exc:
        first = exc.message.strip().splitlines()[0] if exc.message.strip() else "no message"
        raise AxeUnavailable(f"axe-core did not run in the page: {first}") from None
    try:
        return violations_from(result)
    except (ValueError, AttributeError, TypeError) as exc:
        raise AxeUnavailable(f"axe-core answered something unexpected: {exc}") from None


def listed(violations: Sequence[Violation]) -> str:
    """`image-alt (critical): Images must have alternative text at img (https://...); ...`"""
    return "; ".join(v.line() for v in violations)
