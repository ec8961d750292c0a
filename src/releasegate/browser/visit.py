"""One visit of one page in a real browser: load it, look for what must be on it, read the
browser's timings, and keep the recording for the checks that judge it (see `judge.py`)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from releasegate.browser.accessibility import AxeUnavailable, Violation, run_axe
from releasegate.browser.recording import (
    ConsoleEntry,
    ContextRecording,
    FailedRequest,
    SentRequest,
)
from releasegate.browser.request_rules import unmatched
from releasegate.browser.vitals import COLLECT_JS, LCP_WAIT_MS, PageTimings, timings_from

# Expected text or selectors may be rendered by scripts after the load event: wait this long
# at most for them to become visible before saying they are not.
SETTLE_S = 3.0
# how often the collected vitals are looked for once their observers settle
VITALS_POLL_MS = 20
# how long an expected request may take after the load event (beacons sent on a timer or when
# idle), and how often the request log is looked at meanwhile
REQUESTS_SETTLE_S = 2.0
REQUESTS_POLL_MS = 50
# Chromium's network error codes that mean "no connection to the target at all": the one rule
# for an unreachable target applies (HOLD, or ROLLBACK when it answered before; see decide)
CUT_OFF_ERRORS = (
    "ERR_CONNECTION_REFUSED",
    "ERR_CONNECTION_RESET",
    "ERR_CONNECTION_CLOSED",
    "ERR_NAME_NOT_RESOLVED",
    "ERR_ADDRESS_UNREACHABLE",
    "ERR_INTERNET_DISCONNECTED",
    "ERR_NETWORK_CHANGED",
    "ERR_EMPTY_RESPONSE",
    "ERR_PROXY_CONNECTION_FAILED",
    "ERR_CONNECTION_TIMED_OUT",
    "ERR_TIMED_OUT",
)
# Codes where the browser could not measure for reasons of its own or of TLS: missing evidence
UNREACHABLE_ERRORS = (
    *CUT_OFF_ERRORS,
    "ERR_UNSAFE_PORT",  # the browser itself refuses ports such as 9 or 25
    "ERR_CERT_",
    "ERR_SSL_",
)


# The browser itself went away (crashed, killed, closed under the check): nothing was judged.
BROWSER_GONE = ("has been closed", "crashed", "Browser closed", "Connection closed")


def is_unreachable(message: str) -> bool:
    """The browser could not reach the target, or the browser itself failed: the gate could
    not measure (as opposed to the target answering badly)."""
    return any(code in message for code in (*UNREACHABLE_ERRORS, *BROWSER_GONE))


def is_cut_off(message: str) -> bool:
    """No connection to the target at all (refused, reset, DNS, connect timeout)."""
    return any(code in message for code in CUT_OFF_ERRORS)


@dataclass(frozen=True)
class PageTarget:
    """What to visit and what to look for: from one `[[pages]]` entry and a variant."""

    check_id: str  # "/dashboard", or "/dashboard@mobile"
    url: str
    expect_text: str | None = None
    expect_selector: str | None = None
    timeout_s: float = 15.0
    mobile: bool = False
    # URL patterns the page must send: the visit waits (up to SETTLE_S) for them to be sent
    expect_requests: tuple[str, ...] = ()
    # run axe-core on the loaded page (`[browser] accessibility` not "off")
    accessibility: bool = False


@dataclass
class PageVisit:
    """What the browser saw of one page. `recording` holds its artefacts until discarded."""

    target: PageTarget
    recording: ContextRecording | None = None
    status: int | None = None
    final_url: str | None = None
    navigation_error: str | None = None
    timed_out: bool = False
    title: str = ""
    text_excerpt: str = ""
    text_visible: bool | None = None
    selector_visible: bool | None = None
    timings: PageTimings = field(default_factory=PageTimings)
    console: list[ConsoleEntry] = field(default_factory=list)
    failed_requests: list[FailedRequest] = field(default_factory=list)
    # the URLs the page asked for; None when not recorded (then no console error is taken for
    # the browser's own)
    requested: frozenset[str] | None = None
    # every request the page sent, with its answer (the request log); None when not recorded
    sent: list[SentRequest] | None = None
    # axe-core's serious and critical violations; None when not run, with the reason if it failed
    accessibility: list[Violation] | None = None
    accessibility_error: str | None = None

    @property
    def unreachable(self) -> bool:
        return self.navigation_error is not None and is_unreachable(self.navigation_error)

    @property
    def loaded(self) -> bool:
        return self.status is not None and not self.timed_out and self.navigation_error is None


def accepts_connections(url: str, timeout_s: float = 3.0) -> bool:
    """Whether the target's host and port accept a TCP connection at all: tells a page that
    is slow (the target's fault) from a target the browser cannot reach (no evidence)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _visible(locator: Any, timeout_s: float) -> bool:
    try:
        locator.first.wait_for(state="visible", timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        return False
    return True


def visit_page(
    browser: Browser,
    context_args: dict[str, Any],
    target: PageTarget,
    *,
    origin_url: str,
    video: bool = False,
    prepare: Callable[[BrowserContext], None] | None = None,
) -> PageVisit:
    """Open `target.url` in a new context of `browser`, wait for its load event, and record
    status, visibility of what is expected, timings, console and failed requests. Never
    raises for what the page does: the checks judge the visit. `prepare` runs on the new
    context first (timeouts, cookies)."""
    recording = ContextRecording(
        browser, context_args, origin_url=origin_url, title=target.check_id, video=video
    )
    try:
        return _visit(recording, target, prepare)
    except BaseException:
        # nothing will keep or discard these recordings: remove them (unmasked) now
        recording.discard()
        raise


def _visit(
    recording: ContextRecording,
    target: PageTarget,
    prepare: Callable[[BrowserContext], None] | None,
) -> PageVisit:
    visit = PageVisit(target=target, recording=recording)
    if prepare is not None:
        prepare(recording.context)
    page = recording.context.new_page()
    page.set_default_timeout(target.timeout_s * 1000)
    try:
        response = page.goto(target.url, wait_until="load", timeout=target.timeout_s * 1000)
    except PlaywrightTimeout:
        visit.timed_out = True
        if not accepts_connections(target.url):
            visit.navigation_error = (
                "net::ERR_CONNECTION_TIMED_OUT (the target accepts no connection)"
            )
    except PlaywrightError as exc:
        visit.navigation_error = exc.message.splitlines()[0]
    else:
        visit.status = response.status if response is not None else None
    visit.final_url = page.url
    if visit.loaded:
        settle = min(SETTLE_S, target.timeout_s)
        # start the vitals' observers now: their settle windows (100 ms after the last entry)
        # pass while the expected content is looked for, not after it
        with contextlib.suppress(PlaywrightError):
            page.evaluate(COLLECT_JS, {"lcpWaitMs": LCP_WAIT_MS})
        if target.expect_text:
            visit.text_visible = _visible(page.get_by_text(target.expect_text), settle)
        if target.expect_selector:
            visit.selector_visible = _visible(page.locator(target.expect_selector), settle)
        try:
            collected = page.wait_for_function(
                COLLECT_JS,
                arg={"lcpWaitMs": LCP_WAIT_MS},
                polling=VITALS_POLL_MS,
                timeout=(LCP_WAIT_MS + 2000),
            )
            visit.timings = timings_from(collected.json_value())
            visit.title = page.title()
            visit.text_excerpt = " ".join(page.inner_text("body", timeout=1000).split())[:300]
        except PlaywrightError:
            pass  # the page hung or went away while being read: missing timings stay missing
        _wait_for_requests(
            page, recording, target.expect_requests, min(REQUESTS_SETTLE_S, target.timeout_s)
        )
        if target.accessibility:
            try:
                visit.accessibility = run_axe(page)
            except AxeUnavailable as exc:
                visit.accessibility_error = str(exc)
    recording.screenshot()
    recording.close()
    visit.console = recording.console
    visit.failed_requests = recording.failed_requests
    visit.requested = recording.requested
    visit.sent = recording.sent
    return visit


def _wait_for_requests(
    page: Any, recording: ContextRecording, patterns: tuple[str, ...], settle_s: float
) -> None:
    """Beacons are often sent after the load event (on `load`, on a timer, when idle): wait up
    to `settle_s` more until every expected pattern was sent, so a late beacon is not a missing
    one."""
    deadline = time.monotonic() + settle_s
    while unmatched(patterns, [sent.url for sent in recording.sent]):
        if time.monotonic() >= deadline:
            return
        try:
            page.wait_for_timeout(REQUESTS_POLL_MS)
        except PlaywrightError:
            return  # the page went away: what was sent is what the checks judge
