"""The rules of the page checks, on hand-made visits: each message names the page, what was
expected and what the browser saw; a visit that could not reach the target is missing
evidence, never a pass."""

from __future__ import annotations

import pytest

from releasegate.browser import page_checks as judge
from releasegate.browser.recording import ConsoleEntry, FailedRequest
from releasegate.browser.visit import PageTarget, PageVisit
from releasegate.browser.vitals import PageTimings
from releasegate.errors import EvidenceMissing, TargetUnreachable
from releasegate.outcome import Judged, Judgement

URL = "http://127.0.0.1:8080/dashboard"


def problem_of(judged: Judged) -> str | None:
    """A judged check read as before: None for a pass, else its failure message."""
    assert judged.judgement is not Judgement.INCONCLUSIVE, judged.message
    return None if judged.ok else judged.message


def visit(**fields: object) -> PageVisit:
    target = PageTarget(
        check_id="/dashboard",
        url=URL,
        expect_text="Dashboard",
        expect_selector="#counts",
        timeout_s=15,
    )
    defaults: dict[str, object] = {"status": 200, "text_visible": True, "selector_visible": True}
    return PageVisit(target=target, **{**defaults, **fields})  # type: ignore[arg-type]


def test_a_page_that_answered_below_400_has_no_load_problem() -> None:
    assert problem_of(judge.judge_load(visit(), "prod")) is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"status": 500, "text_excerpt": "Oops"},
            "answered 500, expected a status below 400; it shows: 'Oops'",
            id="5xx",
        ),
        pytest.param(
            {"status": None, "timed_out": True}, "did not finish loading within 15 s", id="timeout"
        ),
        pytest.param(
            {"status": None, "navigation_error": "net::ERR_TOO_MANY_REDIRECTS at ..."},
            "navigation failed: net::ERR_TOO_MANY_REDIRECTS",
            id="navigation error",
        ),
        pytest.param({"status": None}, "the browser got no response", id="no response"),
    ],
)
def test_load_problems_say_what_happened_and_where(
    fields: dict[str, object], expected: str
) -> None:
    problem = problem_of(judge.judge_load(visit(**fields), "prod"))

    assert problem is not None
    assert expected in problem
    assert f"(page /dashboard ({URL}, env=prod))" in problem


def test_an_unreachable_target_is_unreachable_for_every_check() -> None:
    """Connection refused: the load check and the checks that need a loaded page all raise
    TargetUnreachable (the one rule for a target that does not answer decides)."""
    unreachable = visit(status=None, navigation_error="net::ERR_CONNECTION_REFUSED at http://...")

    for check in (judge.judge_load, judge.judge_content, judge.require_loaded):
        with pytest.raises(
            TargetUnreachable,
            match="could not connect to the target: net::ERR_CONNECTION_REFUSED",
        ):
            check(unreachable, "prod")


def test_a_certificate_error_is_missing_evidence_not_unreachable() -> None:
    """A TLS failure is not "no connection": the gate could not measure (HOLD)."""
    broken = visit(status=None, navigation_error="net::ERR_CERT_AUTHORITY_INVALID at https://x")

    with pytest.raises(EvidenceMissing, match="failed itself: net::ERR_CERT") as caught:
        judge.require_loaded(broken, "prod")

    assert not isinstance(caught.value, TargetUnreachable)


def test_a_browser_that_went_away_is_missing_evidence_not_a_product_failure() -> None:
    crashed = visit(
        status=None, navigation_error="Page.goto: Target page, context or browser has been closed"
    )

    with pytest.raises(EvidenceMissing, match=r"failed itself: Page\.goto: Target page"):
        judge.judge_load(crashed, "prod")


def test_checks_about_a_page_that_did_not_load_cannot_judge_it() -> None:
    """The load check fails (ROLLBACK); the others are inconclusive, not a second failure."""
    with pytest.raises(EvidenceMissing, match="did not load"):
        judge.require_loaded(visit(status=503), "prod")


def test_missing_content_names_what_is_missing_and_what_the_page_shows() -> None:
    judged = judge.judge_content(
        visit(
            text_visible=False,
            selector_visible=False,
            title="Sign in",
            text_excerpt="User Password",
        ),
        "prod",
    )
    problems = (problem_of(judged) or "").split("; ")

    assert problems[0] == "expected text 'Dashboard' is not visible"
    assert problems[1] == "expected element '#counts' is not visible"
    assert "the page shows title 'Sign in', text 'User Password'" in problems[2]


def test_content_that_is_there_is_no_problem() -> None:
    assert problem_of(judge.judge_content(visit(), "prod")) is None


def test_console_errors_count_uncaught_exceptions_and_skip_allowed_ones() -> None:
    """console.error and page errors count; warnings and allow-listed texts do not."""
    seen = visit(
        console=[
            ConsoleEntry("error", "Failed to load resource: 500"),
            ConsoleEntry("pageerror", "TypeError: x is undefined", "app.js:3:7"),
            ConsoleEntry("warning", "deprecated API"),
            ConsoleEntry("error", "ResizeObserver loop limit exceeded"),
        ]
    )

    errors = judge.console_errors(seen, allow=[r"^ResizeObserver loop"])

    assert [e.kind for e in errors] == ["error", "pageerror"]
    message = problem_of(judge.judge_console(seen, errors, "prod")) or ""
    assert message.startswith("2 console error(s): error: Failed to load resource: 500; pageerror:")
    assert "(app.js:3:7)" in message


def test_failed_requests_are_listed_with_status_or_failure() -> None:
    failed = [
        FailedRequest("GET", "http://127.0.0.1:8080/static/app.js", status=404),
        FailedRequest("POST", "http://127.0.0.1:8080/api/x", failure="net::ERR_ABORTED"),
    ]

    message = (
        problem_of(judge.judge_failed_requests(visit(failed_requests=failed), failed, "prod")) or ""
    )

    assert "GET http://127.0.0.1:8080/static/app.js answered 404" in message
    assert "POST http://127.0.0.1:8080/api/x failed: net::ERR_ABORTED" in message


def test_long_lists_are_cut_with_a_count() -> None:
    errors = [ConsoleEntry("error", f"e{i}") for i in range(8)]

    assert (problem_of(judge.judge_console(visit(), errors, "prod")) or "").count(
        "; and 3 more"
    ) == 1


@pytest.mark.parametrize(
    ("value_ms", "limit_s", "expected"),
    [
        pytest.param(4999.0, 5.0, None, id="under"),
        pytest.param(5000.0, 5.0, None, id="at the limit passes"),
        pytest.param(6200.0, 5.0, "page load 6.2 s exceeds 5 s", id="over"),
        pytest.param(1500.0, 1.0, "page load 1.5 s exceeds 1 s", id="over, seconds"),
    ],
)
def test_timings_are_held_to_their_thresholds(
    value_ms: float, limit_s: float, expected: str | None
) -> None:
    problem = problem_of(judge.judge_timing("page load", value_ms, limit_s, visit(), "prod"))

    assert (problem is None) if expected is None else (problem is not None and expected in problem)


def test_a_timing_the_browser_did_not_record_is_missing_evidence() -> None:
    """An empty measurement is never a pass."""
    with pytest.raises(EvidenceMissing, match="recorded no largest contentful paint"):
        judge.judge_timing("largest contentful paint", None, 2.5, visit(), "prod")


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        pytest.param(0.0, None, id="stable"),
        pytest.param(0.1, None, id="at the limit"),
        pytest.param(0.25, "cumulative layout shift 0.250 exceeds 0.1", id="shifty"),
    ],
)
def test_layout_shift_is_held_to_its_threshold(cls: float, expected: str | None) -> None:
    problem = problem_of(
        judge.judge_layout_shift(
            visit(timings=PageTimings(cumulative_layout_shift=cls)), 0.1, "prod"
        )
    )

    assert (problem is None) if expected is None else (problem is not None and expected in problem)


def test_a_page_wider_than_the_phone_scrolls_sideways() -> None:
    wide = visit(timings=PageTimings(viewport_width=412, scroll_width=980))
    fitting = visit(timings=PageTimings(viewport_width=412, scroll_width=413))

    assert "980 px wide on a 412 px wide screen" in (
        problem_of(judge.judge_overflow(wide, "prod")) or ""
    )
    assert problem_of(judge.judge_overflow(fitting, "prod")) is None


ORIGIN = "http://127.0.0.1:8080"
LOAD_404 = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def load_failure(url: str) -> ConsoleEntry:
    """What Chromium logs for a failed request: the URL is only in the message's location."""
    return ConsoleEntry("error", LOAD_404, f"{url}:0", URL, url=url)


@pytest.mark.parametrize(
    ("entry", "requested", "counted"),
    [
        pytest.param(
            load_failure(f"{ORIGIN}/favicon.ico"),
            frozenset({URL}),
            False,
            id="favicon-the-page-never-asked-for",
        ),
        pytest.param(
            load_failure(f"{ORIGIN}/missing.png"),
            frozenset({URL, f"{ORIGIN}/missing.png"}),
            True,
            id="image-the-page-asked-for",
        ),
        pytest.param(
            load_failure(f"{ORIGIN}/favicon.ico"),
            frozenset({URL, f"{ORIGIN}/favicon.ico"}),
            True,
            id="favicon-the-page-fetched-itself",
        ),
        pytest.param(
            load_failure(f"{ORIGIN}/favicon.ico"), None, True, id="requests-not-recorded"
        ),
        pytest.param(
            ConsoleEntry("error", "TypeError", f"{ORIGIN}/app.js:3", URL, url=f"{ORIGIN}/app.js"),
            frozenset({URL}),
            True,
            id="script-error-is-not-a-request",
        ),
        pytest.param(
            ConsoleEntry("pageerror", LOAD_404, "", URL, url=f"{ORIGIN}/favicon.ico"),
            frozenset({URL}),
            True,
            id="uncaught-exception",
        ),
    ],
)  # fmt: skip
def test_the_browsers_own_requests_are_not_the_pages_console_errors(
    entry: ConsoleEntry, requested: frozenset[str] | None, counted: bool
) -> None:
    """A failed request the page never made (Chromium's favicon fetch) is not the page's error;
    one it made is, and so is anything that is not a failed request."""
    errors = judge.console_errors(visit(console=[entry], requested=requested), allow=[])

    assert (errors == [entry]) is counted


def test_console_allow_also_matches_the_url_of_the_failing_request() -> None:
    """ "Failed to load resource" names no URL: an allow pattern may match the request's URL."""
    beacon = load_failure("https://stats.example.com/beacon.gif")
    image = load_failure(f"{ORIGIN}/missing.png")
    seen = visit(console=[beacon, image], requested=frozenset({beacon.url, image.url}))

    errors = judge.console_errors(seen, allow=[r"^https://stats\.example\.com/"])

    assert errors == [image]
