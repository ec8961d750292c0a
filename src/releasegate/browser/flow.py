"""User journeys in a browser, step by step: each step is timed (a measurement) and a step
that goes wrong fails the check with the flow, the step, the page and what it showed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from releasegate.browser.visit import is_cut_off, is_unreachable
from releasegate.errors import CheckFailed, EvidenceMissing, TargetUnreachable

Measure = Callable[..., None]


@dataclass
class Flow:
    """One journey through the target's pages. Use `with flow.step("create a ticket"):`."""

    name: str
    page: Page
    env_name: str
    measure: Measure
    steps: list[tuple[str, float]] = field(default_factory=list)

    def _where(self, step: str) -> str:
        return f"flow {self.name!r}, step {step!r}, at {self.page.url} (env={self.env_name})"

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time one step; turn what goes wrong in it into a failed or inconclusive check."""
        __tracebackhide__ = True
        started = time.perf_counter()
        try:
            yield
        except PlaywrightTimeout as exc:
            raise CheckFailed(
                f"{self._where(name)}: timed out: {_first_line(exc.message)}"
            ) from None
        except PlaywrightError as exc:
            # the first line only: a call log below it may quote the page's own text
            if is_cut_off(_first_line(exc.message)):
                raise TargetUnreachable(
                    f"{self._where(name)}: the browser could not connect to the target:"
                    f" {_first_line(exc.message)}"
                ) from None
            if is_unreachable(_first_line(exc.message)):
                raise EvidenceMissing(
                    f"{self._where(name)}: the browser could not reach the target or failed"
                    f" itself: {_first_line(exc.message)}"
                ) from None
            raise CheckFailed(f"{self._where(name)}: {_first_line(exc.message)}") from None
        except AssertionError as exc:  # Playwright's expect(), or a page helper's StepFailed
            raise CheckFailed(f"{self._where(name)}: {_condense(str(exc))}") from None
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self.steps.append((name, elapsed_ms))
            self.measure(f"step: {name}", round(elapsed_ms, 1), unit="ms")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no message)"


def _condense(text: str) -> str:
    # expect() messages span lines ("Locator expected to ...\nActual value: ...\nCall log: ...");
    # keep what was expected and what was seen, drop the call log
    kept = []
    for line in text.strip().splitlines():
        if line.strip().lower().startswith("call log"):
            break
        if line.strip():
            kept.append(line.strip())
    return " ".join(kept) or "(no message)"
