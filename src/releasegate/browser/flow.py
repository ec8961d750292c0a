"""User journeys in a browser, step by step: each step is timed (a measurement) and a step
that goes wrong fails the check with the flow, the step, the page and what it showed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from releasegate.browser.request_rules import matches
from releasegate.browser.visit import is_cut_off, is_unreachable
from releasegate.errors import CheckFailed, EvidenceMissing, StepFailed, TargetUnreachable
from releasegate.units import format_duration

Measure = Callable[..., None]

# The message of the error `trigger_error` raises: recognisable in an error tracker's inbox.
TEST_ERROR_MESSAGE = "releasegate test error: please ignore"
# A script throwing from a timer: an uncaught error, as a bug would raise (an error thrown by
# the evaluated code itself would be returned to Playwright, never reaching window.onerror).
_THROW = "message => { setTimeout(() => { throw new Error(message); }, 0); }"
# how long an error may take to reach its tracker (SDKs batch, retry, wait for idle)
TRIGGER_WAIT_S = 5.0
_MAX_LISTED = 12


def trigger_error(
    page: Page,
    expect_request: str,
    *,
    click: str | None = None,
    script: str | None = None,
    message: str = TEST_ERROR_MESSAGE,
    carries_message: bool = False,
    timeout_s: float = TRIGGER_WAIT_S,
) -> str:
    """Make the page raise an uncaught error and wait (up to `timeout_s`) for a request
    matching the URL glob `expect_request` to be sent: the error reaching its tracker (Sentry's
    `*/api/*/envelope/*`, say). Returns the URL that matched.

    The error comes from `script` (JavaScript run in the page, which should throw outside its
    own call: from a timer), from clicking the element `click` (a test button whose handler
    throws), or by default from a timer throwing `Error(message)`. With `carries_message`, the
    request's body must contain `message` (so a report sent for something else, such as a
    session starting, does not count). Raises `StepFailed` naming the pattern and the requests
    the page sent meanwhile."""
    __tracebackhide__ = True
    sent: list[Request] = []

    def wanted(request: Request) -> bool:
        if not matches(expect_request, request.url):
            return False
        return not carries_message or message in (request.post_data or "")

    def record(request: Request) -> None:
        sent.append(request)

    page.on("request", record)
    try:
        with page.expect_request(wanted, timeout=timeout_s * 1000) as found:
            if click is not None:
                page.locator(click).click()
            elif script is not None:
                page.evaluate(script)
            else:
                page.evaluate(_THROW, message)
        return found.value.url
    except PlaywrightTimeout:
        listed = [f"{r.method} {r.url}" for r in sent]
        shown = "; ".join(listed[:_MAX_LISTED]) or "none"
        if len(listed) > _MAX_LISTED:
            shown += f"; and {len(listed) - _MAX_LISTED} more"
        carrying = f" carrying {message!r}" if carries_message else ""
        raise StepFailed(
            f"after an uncaught error ({message!r}) no request matching {expect_request!r}"
            f"{carrying} was sent within {format_duration(timeout_s)}; the page sent"
            f" {len(listed)} request(s): {shown}"
        ) from None
    finally:
        page.remove_listener("request", record)


@dataclass
class Flow:
    """One journey through the target's pages. Use `with flow.step("create a ticket"):`."""

    name: str
    page: Page
    env_name: str
    measure: Measure
    steps: list[tuple[str, float]] = field(default_factory=list)

    def trigger_error(
        self, expect_request: str, *, step: str = "trigger an error", **options: Any
    ) -> str:
        """`trigger_error` on this flow's page as a timed step: the error reaches its tracker
        (a request matching `expect_request` is sent), or the step fails naming both."""
        __tracebackhide__ = True
        with self.step(step):
            return trigger_error(self.page, expect_request, **options)

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
