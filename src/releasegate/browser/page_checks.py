"""Judging a page visit: each `judge_*` function is one check's rule, returning a `Judged`
whose message says what is wrong and where.

Pure functions over `PageVisit` (no browser needed), so every rule is unit-tested. A visit that
could not reach the target, or a figure the browser did not record, raises `EvidenceMissing`
(HOLD); the rest is judged pass or fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from releasegate.browser.recording import ConsoleEntry, FailedRequest, SentRequest
from releasegate.browser.request_rules import is_https, is_insecure, matches
from releasegate.browser.visit import PageVisit, is_cut_off
from releasegate.errors import EvidenceMissing, TargetUnreachable
from releasegate.outcome import Figures, Judged
from releasegate.units import format_duration

_MAX_LISTED = 5


def where(visit: PageVisit, env_name: str) -> str:
    """`page /dashboard (http://host/dashboard, env=local)`: the tail of every message."""
    return f"page {visit.target.check_id} ({visit.target.url}, env={env_name})"


def _listed(lines: list[str]) -> str:
    shown = "; ".join(lines[:_MAX_LISTED])
    more = len(lines) - _MAX_LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def require_reachable(visit: PageVisit, env_name: str) -> None:
    """The browser reached the target; otherwise nothing about the page can be judged."""
    if visit.unreachable and is_cut_off(str(visit.navigation_error)):
        raise TargetUnreachable(
            f"the browser could not connect to the target: {visit.navigation_error}"
            f" ({where(visit, env_name)})"
        )
    if visit.unreachable:
        raise EvidenceMissing(
            f"the browser could not reach the target or failed itself: {visit.navigation_error}"
            f" ({where(visit, env_name)})"
        )


def require_loaded(visit: PageVisit, env_name: str) -> None:
    """The page loaded; a check about its content or timings cannot judge one that did not
    (its load check fails and says why)."""
    require_reachable(visit, env_name)
    if not visit.loaded or visit.status is None or visit.status >= 400:
        raise EvidenceMissing(
            f"cannot judge: the page did not load (see its load check) ({where(visit, env_name)})"
        )


def judge_load(visit: PageVisit, env_name: str) -> Judged:
    """The page loaded with a status below 400; a failure says what happened instead."""
    require_reachable(visit, env_name)
    tail = where(visit, env_name)
    figures = Figures(measured=visit.status, limit=400, where=visit.target.url)
    if visit.timed_out and visit.navigation_error is None:
        return Judged.failed(
            f"did not finish loading within {format_duration(visit.target.timeout_s)}"
            f" (the browser's timeout) ({tail})",
            **figures,
        )
    if visit.navigation_error:
        return Judged.failed(f"navigation failed: {visit.navigation_error} ({tail})", **figures)
    if visit.status is None:
        return Judged.failed(f"the browser got no response for the page ({tail})", **figures)
    if visit.status >= 400:
        shown = f"; it shows: {visit.text_excerpt[:160]!r}" if visit.text_excerpt else ""
        return Judged.failed(
            f"answered {visit.status}, expected a status below 400{shown} ({tail})", **figures
        )
    return Judged.passed(f"answered {visit.status} ({tail})", **figures)


def judge_content(visit: PageVisit, env_name: str) -> Judged:
    """Expected text and selector visible; a failure names each one missing ("; " between
    them) and what the page shows instead."""
    require_loaded(visit, env_name)
    problems = []
    if visit.text_visible is False:
        problems.append(f"expected text {visit.target.expect_text!r} is not visible")
    if visit.selector_visible is False:
        problems.append(f"expected element {visit.target.expect_selector!r} is not visible")
    if not problems:
        return Judged.passed(f"the expected content is visible ({where(visit, env_name)})")
    seen = f"title {visit.title!r}, text {visit.text_excerpt[:160]!r}"
    problems.append(f"the page shows {seen} ({where(visit, env_name)})")
    return Judged.failed("; ".join(problems), where=visit.target.url)


# What Chromium logs for a request that failed, whoever made it.
_LOAD_FAILED = "Failed to load resource"


def is_the_browsers_own(entry: ConsoleEntry, requested: frozenset[str] | None) -> bool:
    """Whether a console error is about a request the browser made by itself, not the page:
    Chromium fetches /favicon.ico on its own and logs its 404 as the page's console error. Such
    a request never reaches the page's request events, so its URL is not among those the page
    asked for; without that record nothing is taken for the browser's."""
    return (
        requested is not None
        and entry.kind == "error"
        and entry.text.startswith(_LOAD_FAILED)
        and bool(entry.url)
        and entry.url not in requested
    )


def console_errors(visit: PageVisit, allow: Iterable[str]) -> list[ConsoleEntry]:
    """Console errors and uncaught exceptions of the page, minus those an allow pattern matches
    (in the message, or in the URL of the request that failed) and those about the browser's
    own requests (a missing favicon)."""
    patterns = [re.compile(p) for p in allow]
    return [
        entry
        for entry in visit.console
        if entry.is_error
        and not is_the_browsers_own(entry, visit.requested)
        and not any(p.search(entry.text) or (entry.url and p.search(entry.url)) for p in patterns)
    ]


def judge_console(visit: PageVisit, errors: list[ConsoleEntry], env_name: str) -> Judged:
    """No console error (`console_errors`); a failure lists them."""
    figures = Figures(measured=len(errors), limit=0, where=visit.target.url)
    listed = _listed([e.line() for e in errors])
    message = f"{len(errors)} console error(s): {listed} ({where(visit, env_name)})"
    return Judged.failed(message, **figures) if errors else Judged.passed(message, **figures)


def failed_requests(visit: PageVisit) -> list[FailedRequest]:
    """Requests to the target's own origin that answered 4xx/5xx or did not complete."""
    return list(visit.failed_requests)


def judge_failed_requests(visit: PageVisit, failed: list[FailedRequest], env_name: str) -> Judged:
    """No failed request to the target (`failed_requests`); a failure lists them."""
    figures = Figures(measured=len(failed), limit=0, where=visit.target.url)
    message = (
        f"{len(failed)} failed request(s) to the target: {_listed([f.line() for f in failed])}"
        f" ({where(visit, env_name)})"
    )
    return Judged.failed(message, **figures) if failed else Judged.passed(message, **figures)


def judge_timing(
    name: str, value_ms: float | None, limit_s: float, visit: PageVisit, env_name: str
) -> Judged:
    """`value_ms` at most `limit_s`; a value the browser did not record is missing evidence
    (an empty measurement is never a pass)."""
    if value_ms is None:
        raise EvidenceMissing(
            f"the browser recorded no {name} for this page ({where(visit, env_name)})"
        )
    figures = Figures(measured=value_ms, limit=limit_s * 1000, where=visit.target.url)
    shown = f"{name} {format_duration(value_ms / 1000)}"
    if value_ms > limit_s * 1000:
        return Judged.failed(
            f"{shown} exceeds {format_duration(limit_s)} ({where(visit, env_name)})", **figures
        )
    return Judged.passed(
        f"{shown} within {format_duration(limit_s)} ({where(visit, env_name)})", **figures
    )


def judge_layout_shift(visit: PageVisit, limit: float, env_name: str) -> Judged:
    """Cumulative layout shift at most `limit`; not reported by the browser: missing evidence."""
    cls = visit.timings.cumulative_layout_shift
    if cls is None:
        raise EvidenceMissing(
            f"the browser does not report layout shifts ({where(visit, env_name)})"
        )
    figures = Figures(measured=cls, limit=limit, where=visit.target.url)
    if cls > limit:
        return Judged.failed(
            f"cumulative layout shift {cls:.3f} exceeds {limit:g} ({where(visit, env_name)})",
            **figures,
        )
    return Judged.passed(
        f"cumulative layout shift {cls:.3f} within {limit:g} ({where(visit, env_name)})",
        **figures,
    )


def judge_overflow(visit: PageVisit, env_name: str) -> Judged:
    """On a phone, the page must not be wider than the screen (sideways scrolling)."""
    width, scroll = visit.timings.viewport_width, visit.timings.scroll_width
    if width is None or scroll is None:
        raise EvidenceMissing(f"the page's width was not measured ({where(visit, env_name)})")
    figures = Figures(measured=scroll, limit=width, where=visit.target.url)
    if scroll > width + 1:  # one pixel of rounding
        return Judged.failed(
            f"the page is {scroll} px wide on a {width} px wide screen: it scrolls sideways"
            f" ({where(visit, env_name)})",
            **figures,
        )
    return Judged.passed(
        f"the page is {scroll} px wide on a {width} px wide screen ({where(visit, env_name)})",
        **figures,
    )


# -- the request log: expected, forbidden and insecure requests ---------------------------------

Mask = Callable[[str], str]
# how many of the page's requests a failure lists (the HAR has them all)
_MAX_SENT_LISTED = 12


def request_log(visit: PageVisit, env_name: str) -> list[SentRequest]:
    """The requests the page sent; a visit without its log cannot be judged by it."""
    require_loaded(visit, env_name)
    if visit.sent is None:
        raise EvidenceMissing(f"the page's requests were not recorded ({where(visit, env_name)})")
    return visit.sent


def _sent_lines(sent: Sequence[SentRequest], mask: Mask) -> str:
    lines = [s.line(mask) for s in sent]
    shown = "; ".join(lines[:_MAX_SENT_LISTED])
    more = len(lines) - _MAX_SENT_LISTED
    return shown + (f"; and {more} more" if more > 0 else "") if lines else "none"


def expected_not_sent(visit: PageVisit, patterns: Sequence[str], env_name: str) -> list[str]:
    """The patterns that no request the page sent matches (an answer is not needed: a beacon
    counts once sent)."""
    sent = request_log(visit, env_name)
    return [p for p in patterns if not any(matches(p, s.url) for s in sent)]


def judge_expected_requests(
    visit: PageVisit,
    patterns: Sequence[str],
    missing: Sequence[str],
    env_name: str,
    mask: Mask = str,
) -> Judged:
    """Every pattern sent (`expected_not_sent` is empty). A failure names each pattern not
    sent and lists what the page did send, with the answers' statuses."""
    sent = request_log(visit, env_name)
    figures = Figures(
        measured=len(patterns) - len(missing), limit=len(patterns), where=visit.target.url
    )
    if missing:
        names = ", ".join(repr(p) for p in missing)
        return Judged.failed(
            f"no request matching {names} was sent; the page sent {len(sent)} request(s):"
            f" {_sent_lines(sent, mask)} ({where(visit, env_name)})",
            **figures,
        )
    found = "; ".join(
        f"{p!r}: {next(s for s in sent if matches(p, s.url)).line(mask)}" for p in patterns
    )
    return Judged.passed(
        f"sent every expected request: {found} ({where(visit, env_name)})", **figures
    )


def forbidden_requests(
    visit: PageVisit, patterns: Sequence[str], env_name: str
) -> list[tuple[str, SentRequest]]:
    """(pattern, request) for every request the page sent that a forbidden pattern matches."""
    sent = request_log(visit, env_name)
    return [(p, s) for s in sent for p in patterns if matches(p, s.url)]


def judge_forbidden_requests(
    visit: PageVisit, found: list[tuple[str, SentRequest]], env_name: str, mask: Mask = str
) -> Judged:
    """No forbidden request (`forbidden_requests`); a failure names each with its pattern."""
    figures = Figures(measured=len(found), limit=0, where=visit.target.url)
    if found:
        listed = _listed([f"{s.line(mask)} (matches {p!r})" for p, s in found])
        return Judged.failed(
            f"{len(found)} forbidden request(s): {listed} ({where(visit, env_name)})", **figures
        )
    return Judged.passed(f"no forbidden request ({where(visit, env_name)})", **figures)


def page_is_https(visit: PageVisit) -> bool:
    """Whether the page was served over https (where it ended, after redirects)."""
    return is_https(visit.final_url or visit.target.url)


def insecure_requests(visit: PageVisit, env_name: str) -> list[SentRequest]:
    """Subresource requests of an https page over http:// or ws:// (mixed content), whether
    the browser let them through, upgraded them after sending, or blocked them."""
    return [s for s in request_log(visit, env_name) if not s.is_document and is_insecure(s.url)]


def judge_mixed_content(
    visit: PageVisit, insecure: list[SentRequest], env_name: str, mask: Mask = str
) -> Judged:
    """An https page requests nothing over http:// (`insecure_requests`); a failure lists them."""
    figures = Figures(measured=len(insecure), limit=0, where=visit.target.url)
    if insecure:
        listed = _listed([s.line(mask) for s in insecure])
        return Judged.failed(
            f"{len(insecure)} insecure request(s) from an https page (mixed content): {listed}"
            f" ({where(visit, env_name)})",
            **figures,
        )
    return Judged.passed(f"nothing requested over http:// ({where(visit, env_name)})", **figures)


# -- accessibility ---------------------------------------------------------------------------


def judge_accessibility(visit: PageVisit, env_name: str) -> Judged:
    """No serious or critical axe-core violation; a failure lists each rule with the elements'
    selectors and the rule's help page. axe not run is missing evidence."""
    require_loaded(visit, env_name)
    found = visit.accessibility
    if found is None:
        reason = visit.accessibility_error or "axe-core was not run on the page"
        raise EvidenceMissing(f"cannot judge accessibility: {reason} ({where(visit, env_name)})")
    figures = Figures(measured=len(found), limit=0, where=visit.target.url)
    if found:
        return Judged.failed(
            f"{len(found)} serious or critical accessibility violation(s):"
            f" {_listed([v.line() for v in found])} ({where(visit, env_name)})",
            **figures,
        )
    return Judged.passed(
        f"no serious or critical accessibility violation ({where(visit, env_name)})", **figures
    )
