"""Smoke, in a real browser: every page of the environment loads, shows what it must, logs no
errors, requests nothing that fails, sends what it must (error tracking, analytics) and nothing
it must not, and is fast and stable enough to use (one visit per page, judged by each check
below; thresholds from `[browser]` or the page's own)."""

import pytest

from releasegate.browser import page_checks as judge
from releasegate.browser.visit import PageVisit
from releasegate.config import BrowserConfig, Environment
from releasegate.pytest_plugin._keys import GateRun
from releasegate.pytest_plugin.browser_fixtures import (
    BrowserPage,
    accessibility_check,
    for_pages,
)
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_page_loads_in_the_browser(
    page_visit: PageVisit, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Page {browser_page} loads in the browser.

    The page loads in the browser with a status below 400."""
    measure("status", page_visit.status, threshold=400, comparison="<")

    expect.judged(judge.judge_load(page_visit, env.name))


@for_pages(lambda p: bool(p.spec.expect_text or p.spec.expect_selector))
def test_page_shows_its_expected_content(
    page_visit: PageVisit, env: Environment, expect: Expect
) -> None:
    """Page {browser_page} shows its expected content.

    The expected text and element are visible."""
    expect.judged(judge.judge_content(page_visit, env.name))


def test_page_logs_no_console_errors(
    page_visit: PageVisit,
    browser_page: BrowserPage,
    browser_config: BrowserConfig,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {browser_page} shows no errors in the browser console.

    No console error and no uncaught exception while the page loads (allowed ones aside)."""
    judge.require_loaded(page_visit, env.name)
    errors = judge.console_errors(page_visit, browser_page.console_allow(browser_config))
    measure("console errors", len(errors), threshold=0, comparison="<=")

    expect.judged(judge.judge_console(page_visit, errors, env.name))


def test_page_requests_nothing_that_fails(
    page_visit: PageVisit, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Every request page {browser_page} makes to the site succeeds.

    Every request the page makes to the target's own origin answers below 400 and
    completes (the page's own document is the load check's)."""
    judge.require_loaded(page_visit, env.name)
    failed = judge.failed_requests(page_visit)
    measure("failed requests", len(failed), threshold=0, comparison="<=")

    expect.judged(judge.judge_failed_requests(page_visit, failed, env.name))


def test_page_load_time_is_within_threshold(
    page_visit: PageVisit,
    browser_page: BrowserPage,
    browser_config: BrowserConfig,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {browser_page} loads within its time limit.

    Navigation start to the end of the load event, as the browser timed it."""
    judge.require_loaded(page_visit, env.name)
    limit = browser_page.load_max(browser_config)
    timings = page_visit.timings
    measure("load", timings.load_ms, unit="ms", threshold=limit * 1000, comparison="<=")
    measure("time to first byte", timings.ttfb_ms, unit="ms")
    measure("DOM content loaded", timings.dom_content_loaded_ms, unit="ms")
    measure("first contentful paint", timings.first_contentful_paint_ms, unit="ms")

    expect.judged(judge.judge_timing("page load", timings.load_ms, limit, page_visit, env.name))


def test_page_largest_contentful_paint_is_within_threshold(
    page_visit: PageVisit,
    browser_page: BrowserPage,
    browser_config: BrowserConfig,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {browser_page} shows its main content quickly enough.

    Largest Contentful Paint (PerformanceObserver) within the threshold."""
    judge.require_loaded(page_visit, env.name)
    limit = browser_page.lcp_max(browser_config)
    lcp = page_visit.timings.largest_contentful_paint_ms
    measure("largest contentful paint", lcp, unit="ms", threshold=limit * 1000, comparison="<=")

    expect.judged(judge.judge_timing("largest contentful paint", lcp, limit, page_visit, env.name))


def test_page_layout_is_stable(
    page_visit: PageVisit,
    browser_page: BrowserPage,
    browser_config: BrowserConfig,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """The layout of page {browser_page} stays still while it loads.

    Cumulative Layout Shift (largest session window) within the threshold."""
    judge.require_loaded(page_visit, env.name)
    limit = browser_page.cls_max(browser_config)
    cls = page_visit.timings.cumulative_layout_shift
    measure("cumulative layout shift", cls, threshold=limit, comparison="<=")

    expect.judged(judge.judge_layout_shift(page_visit, limit, env.name))


@for_pages(lambda p: p.device is not None)
def test_page_fits_a_phone_screen(
    page_visit: PageVisit, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Page {browser_page} fits a phone screen.

    On a phone's screen the page does not scroll sideways."""
    judge.require_loaded(page_visit, env.name)
    timings = page_visit.timings
    measure(
        "page width",
        timings.scroll_width,
        unit="px",
        threshold=timings.viewport_width,
        comparison="<=",
    )

    expect.judged(judge.judge_overflow(page_visit, env.name))


@for_pages(lambda p: bool(p.spec.expect_requests))
def test_page_sends_the_expected_requests(
    page_visit: PageVisit,
    browser_page: BrowserPage,
    gate_run: GateRun,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {browser_page} sends every request it is expected to send.

    Every `expect_requests` pattern is sent while the page loads (say, the error tracker's
    envelope and the analytics beacon)."""
    env_name, patterns = gate_run.env.name, browser_page.spec.expect_requests
    missing = judge.expected_not_sent(page_visit, patterns, env_name)
    sent = len(patterns) - len(missing)
    measure("expected requests sent", sent, threshold=len(patterns), comparison=">=")

    expect.judged(
        judge.judge_expected_requests(
            page_visit, patterns, missing, env_name, gate_run.redactor.redact
        )
    )


@for_pages(lambda p: bool(p.spec.forbid_requests))
def test_page_sends_no_forbidden_requests(
    page_visit: PageVisit,
    browser_page: BrowserPage,
    gate_run: GateRun,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {browser_page} sends no forbidden requests.

    No request the page sends matches a `forbid_requests` pattern."""
    env_name = gate_run.env.name
    found = judge.forbidden_requests(page_visit, browser_page.spec.forbid_requests, env_name)
    measure("forbidden requests", len(found), threshold=0, comparison="<=")

    expect.judged(
        judge.judge_forbidden_requests(page_visit, found, env_name, gate_run.redactor.redact)
    )


def test_page_loads_nothing_insecure(
    page_visit: PageVisit, gate_run: GateRun, measure: Measure, expect: Expect
) -> None:
    """Page {browser_page} loads nothing over an insecure connection.

    An https page requests nothing over http:// or ws:// (mixed content)."""
    env_name = gate_run.env.name
    judge.require_loaded(page_visit, env_name)
    if not judge.page_is_https(page_visit):
        page = judge.where(page_visit, env_name)
        pytest.skip(f"served over http: nothing it loads is mixed content ({page})")
    insecure = judge.insecure_requests(page_visit, env_name)
    measure("insecure requests", len(insecure), threshold=0, comparison="<=")

    expect.judged(
        judge.judge_mixed_content(page_visit, insecure, env_name, gate_run.redactor.redact)
    )


@accessibility_check
def test_page_is_accessible(
    page_visit: PageVisit, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Page {browser_page} has no serious accessibility problems.

    axe-core finds no serious or critical violation (advisory unless `[browser]
    accessibility = "blocking"`)."""
    judged = judge.judge_accessibility(page_visit, env.name)
    found = len(page_visit.accessibility or [])
    measure("accessibility violations", found, threshold=0, comparison="<=")

    expect.judged(judged)
