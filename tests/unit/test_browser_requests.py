"""What a page must send and must not, judged from a hand-made request log: URL globs, the
expected and forbidden requests, mixed content on https pages, and the config's patterns."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from releasegate.browser import page_checks as judge
from releasegate.browser.recording import SentRequest
from releasegate.browser.request_rules import is_insecure, matches, unmatched
from releasegate.browser.visit import PageTarget, PageVisit
from releasegate.config import Page
from releasegate.errors import EvidenceMissing
from releasegate.outcome import Judgement

HTTP_PAGE = "http://127.0.0.1:8080/"
HTTPS_PAGE = "https://shop.example.com/"
ENVELOPE = "*/api/*/envelope/*"
PLAUSIBLE = "https://plausible.io/api/event"


def sent(url: str, method: str = "GET", status: int | None = 200, **fields: object) -> SentRequest:
    return SentRequest(method, url, status=status, **fields)  # type: ignore[arg-type]


def visit(log: list[SentRequest] | None, url: str = HTTP_PAGE) -> PageVisit:
    return PageVisit(target=PageTarget(check_id="/", url=url), status=200, sent=log)


LOG = [
    sent(HTTP_PAGE, is_document=True),
    sent("http://127.0.0.1:8080/static/app.js"),
    sent("https://o1.ingest.sentry.io/api/42/envelope/?sentry_key=abc", "POST", 200),
    sent(PLAUSIBLE, "POST", None, failure="net::ERR_BLOCKED_BY_CLIENT"),
]


@pytest.mark.parametrize(
    ("pattern", "url", "expected"),
    [
        pytest.param(
            ENVELOPE, "https://o1.ingest.sentry.io/api/42/envelope/?k=1", True, id="sentry"
        ),
        pytest.param(ENVELOPE, "http://h/collect/api/1/envelope/", True, id="own collector"),
        pytest.param(ENVELOPE, "https://o1.ingest.sentry.io/api/42/store/", False, id="other api"),
        pytest.param(PLAUSIBLE, PLAUSIBLE, True, id="exact"),
        pytest.param(PLAUSIBLE, PLAUSIBLE + "?x=1", False, id="whole url only"),
        pytest.param("http://*", "http://cdn.example.com/a.js", True, id="scheme"),
        pytest.param("http://*", "https://cdn.example.com/a.js", False, id="not https"),
        pytest.param("*/API/*", "https://h/api/x", False, id="case-sensitive"),
        pytest.param(
            "https://api.dev.example.com/*", "https://api.dev.example.com/v1", True, id="host"
        ),
    ],
)
def test_a_pattern_is_a_glob_over_the_whole_url(pattern: str, url: str, expected: bool) -> None:
    assert matches(pattern, url) is expected


def test_the_patterns_no_url_matches_are_the_unmatched_ones() -> None:
    urls = [s.url for s in LOG]

    assert unmatched([ENVELOPE, PLAUSIBLE, "*/api/event-v2"], urls) == ["*/api/event-v2"]


@pytest.mark.parametrize(
    ("patterns", "outcome", "in_message"),
    [
        pytest.param(
            [ENVELOPE, PLAUSIBLE], Judgement.PASS, "sent every expected request", id="both"
        ),
        # a beacon the browser tried to send counts as sent, whatever came of it
        pytest.param(
            [PLAUSIBLE], Judgement.PASS, "failed: net::ERR_BLOCKED_BY_CLIENT", id="blocked"
        ),
        pytest.param(
            [ENVELOPE, "*/api/event-v2"],
            Judgement.FAIL,
            "no request matching '*/api/event-v2' was sent; the page sent 4 request(s): GET"
            " http://127.0.0.1:8080/ 200; GET http://127.0.0.1:8080/static/app.js 200; POST",
            id="one missing",
        ),
    ],
)
def test_expected_requests_are_judged_from_the_log(
    patterns: list[str], outcome: Judgement, in_message: str
) -> None:
    page = visit(LOG)
    missing = judge.expected_not_sent(page, patterns, "prod")

    judged = judge.judge_expected_requests(page, patterns, missing, "prod")

    assert judged.judgement is outcome
    assert in_message in judged.message
    assert "page / (http://127.0.0.1:8080/, env=prod)" in judged.message


def test_a_failure_masks_the_urls_it_lists() -> None:
    page = visit(LOG)

    judged = judge.judge_expected_requests(
        page, ["*/nothing"], ["*/nothing"], "prod", lambda text: text.replace("abc", "***")
    )

    assert "sentry_key=***" in judged.message
    assert "abc" not in judged.message


def test_forbidden_requests_are_named_with_their_pattern_and_status() -> None:
    page = visit(LOG)
    found = judge.forbidden_requests(page, ["*sentry.io/*", "*/nothing"], "prod")

    judged = judge.judge_forbidden_requests(page, found, "prod")

    assert judged.judgement is Judgement.FAIL
    assert (
        "1 forbidden request(s): POST https://o1.ingest.sentry.io/api/42/envelope/?sentry_key=abc"
        " 200 (matches '*sentry.io/*')" in judged.message
    )
    assert judged.measured == 1


def test_no_forbidden_request_passes() -> None:
    page = visit(LOG)

    judged = judge.judge_forbidden_requests(page, [], "prod")

    assert judged.judgement is Judgement.PASS


@pytest.mark.parametrize(
    ("url", "insecure"),
    [
        ("http://cdn.example.com/a.js", True),
        ("ws://live.example.com/socket", True),
        ("https://cdn.example.com/a.js", False),
        ("wss://live.example.com/socket", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_http_and_ws_are_insecure(url: str, insecure: bool) -> None:
    assert is_insecure(url) is insecure


def test_an_https_page_loading_over_http_is_mixed_content() -> None:
    log = [
        sent(HTTPS_PAGE, is_document=True),
        sent("http://cdn.example.com/a.js", status=None, failure="net::ERR_BLOCKED_BY_CLIENT"),
        sent("https://cdn.example.com/b.js"),
    ]
    page = visit(log, HTTPS_PAGE)

    insecure = judge.insecure_requests(page, "prod")
    judged = judge.judge_mixed_content(page, insecure, "prod")

    assert judge.page_is_https(page)
    assert judged.judgement is Judgement.FAIL
    assert "1 insecure request(s) from an https page (mixed content): GET" in judged.message
    assert "http://cdn.example.com/a.js failed: net::ERR_BLOCKED_BY_CLIENT" in judged.message


def test_an_https_page_loading_only_over_https_passes() -> None:
    page = visit([sent(HTTPS_PAGE, is_document=True), sent(HTTPS_PAGE + "a.js")], HTTPS_PAGE)

    judged = judge.judge_mixed_content(page, judge.insecure_requests(page, "prod"), "prod")

    assert judged.judgement is Judgement.PASS


def test_an_http_page_is_not_https() -> None:
    assert not judge.page_is_https(visit(LOG))


def test_a_visit_without_its_request_log_is_missing_evidence() -> None:
    with pytest.raises(EvidenceMissing, match="requests were not recorded"):
        judge.expected_not_sent(visit(None), [ENVELOPE], "prod")


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        (ENVELOPE, True),
        (PLAUSIBLE, True),
        ("http://*", True),
        ("plausible.io/api/event", False),
        ("", False),
    ],
)
def test_a_page_pattern_must_be_able_to_match_a_url(pattern: str, valid: bool) -> None:
    def load() -> Page:
        return Page.model_validate({"path": "/", "expect_requests": [pattern]})

    if valid:
        assert load().expect_requests == [pattern]
    else:
        with pytest.raises(ValidationError, match=r"whole URLs|must not be empty"):
            load()
