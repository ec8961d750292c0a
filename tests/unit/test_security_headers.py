"""Security headers: each check passes the reference service's headers and names what is weak."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import httpx
import pytest

from releasegate.checks.security_headers import (
    CHECKS,
    SAFE_REFERRER_POLICIES,
    csp_directives,
    header_judged,
    judge_header,
)
from releasegate.target.security import SECURITY_HEADERS

REFERENCE = dict(SECURITY_HEADERS)
REFERENCE_CSP = SECURITY_HEADERS["Content-Security-Policy"]
SIX_MONTHS_S = 180 * 86400  # 15552000


class HeaderSeen(NamedTuple):
    """What one header check reports: which check, the header it judged, pass or not, the
    header's value (None: absent) and why."""

    check: str
    header: str
    ok: bool
    value: object
    message: str


def judged(
    check: str, headers: Mapping[str, str], *, hsts_min_age_s: float = SIX_MONTHS_S
) -> HeaderSeen:
    verdict = judge_header(check, headers, hsts_min_age_s=hsts_min_age_s)
    return HeaderSeen(
        check, header_judged(check, headers), verdict.ok, verdict.measured, verdict.message
    )


def headers_without(*names: str) -> dict[str, str]:
    """The reference service's headers less `names`."""
    return {k: v for k, v in REFERENCE.items() if k not in names}


# ---------------------------------------------------------------------------------------------
# the reference service


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(
            HeaderSeen(
                "csp",
                "Content-Security-Policy",
                True,
                REFERENCE_CSP,
                "Content-Security-Policy present, scripts restricted",
            ),
            id="csp",
        ),
        pytest.param(
            HeaderSeen(
                "hsts",
                "Strict-Transport-Security",
                True,
                "max-age=31536000; includeSubDomains",
                "Strict-Transport-Security max-age=31536000 (365 days)",
            ),
            id="hsts",
        ),
        pytest.param(
            HeaderSeen(
                "nosniff",
                "X-Content-Type-Options",
                True,
                "nosniff",
                "X-Content-Type-Options: nosniff",
            ),
            id="nosniff",
        ),
        pytest.param(
            # frame-ancestors is what browsers honour when both are sent
            HeaderSeen(
                "frame", "Content-Security-Policy", True, "'none'", "frame-ancestors 'none'"
            ),
            id="frame",
        ),
        pytest.param(
            HeaderSeen(
                "referrer",
                "Referrer-Policy",
                True,
                "strict-origin-when-cross-origin",
                "Referrer-Policy: strict-origin-when-cross-origin",
            ),
            id="referrer",
        ),
    ],
)
def test_the_reference_service_passes_every_check(expected: HeaderSeen) -> None:
    """The reference service's own headers pass each check, with the value and reason shown."""
    assert judged(expected.check, REFERENCE) == expected


def test_every_check_is_covered_by_the_reference_table() -> None:
    """CHECKS lists exactly the five checks judged here (a new one needs its tests)."""
    assert CHECKS == ("csp", "hsts", "nosniff", "frame", "referrer")


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(str.lower, id="lower-case-names"),
        pytest.param(str.upper, id="upper-case-names"),
    ],
)
def test_header_names_are_case_insensitive(check: str, case: object) -> None:
    """Header names match whatever their case, as HTTP says."""
    recased = {case(k): v for k, v in REFERENCE.items()}  # type: ignore[operator]

    assert judged(check, recased) == judged(check, REFERENCE)


@pytest.mark.parametrize("check", CHECKS)
def test_an_httpx_headers_object_is_judged_like_a_dict(check: str) -> None:
    """A response's httpx.Headers (case-insensitive, multi-valued) is accepted as it comes."""
    verdict = judged(check, httpx.Headers(REFERENCE))

    assert verdict.ok, verdict.message


# ---------------------------------------------------------------------------------------------
# missing headers


@pytest.mark.parametrize(
    ("check", "removed", "header", "message"),
    [
        pytest.param(
            "csp",
            ("Content-Security-Policy",),
            "Content-Security-Policy",
            "Content-Security-Policy is missing",
            id="csp",
        ),
        pytest.param(
            "hsts",
            ("Strict-Transport-Security",),
            "Strict-Transport-Security",
            "Strict-Transport-Security is missing",
            id="hsts",
        ),
        pytest.param(
            "nosniff",
            ("X-Content-Type-Options",),
            "X-Content-Type-Options",
            "X-Content-Type-Options is missing",
            id="nosniff",
        ),
        pytest.param(
            "frame",
            ("X-Frame-Options", "Content-Security-Policy"),
            "X-Frame-Options",
            "no frame protection: X-Frame-Options and CSP frame-ancestors are both missing",
            id="frame-both-missing",
        ),
        pytest.param(
            "referrer",
            ("Referrer-Policy",),
            "Referrer-Policy",
            "Referrer-Policy is missing",
            id="referrer",
        ),
    ],
)
def test_a_missing_header_fails_its_check_by_name(
    check: str, removed: tuple[str, ...], header: str, message: str
) -> None:
    """Without the header the check fails, naming the header, with no value."""
    verdict = judged(check, headers_without(*removed))

    assert verdict == HeaderSeen(check, header, False, None, message)


@pytest.mark.parametrize(
    "check", [c for c in CHECKS if c != "csp"], ids=lambda c: f"{c}-unaffected"
)
def test_a_missing_csp_fails_only_the_csp_check(check: str) -> None:
    """Each check judges its own header: dropping the CSP leaves the others passing
    (framing is then refused by X-Frame-Options)."""
    verdict = judged(check, headers_without("Content-Security-Policy"))

    assert verdict.ok, verdict.message


@pytest.mark.parametrize("check", CHECKS)
def test_no_headers_at_all_fail_every_check(check: str) -> None:
    """An empty header set passes nothing."""
    verdict = judged(check, {})

    assert not verdict.ok
    assert verdict.value is None


# ---------------------------------------------------------------------------------------------
# CSP


@pytest.mark.parametrize(
    ("policy", "ok", "message"),
    [
        pytest.param(
            "script-src *",
            False,
            "Content-Security-Policy lets scripts come from *",
            id="script-src-any",
        ),
        pytest.param(
            "default-src 'self'; script-src 'self' 'unsafe-inline'",
            False,
            "Content-Security-Policy lets scripts come from 'unsafe-inline'",
            id="unsafe-inline-without-nonce",
        ),
        pytest.param(
            "script-src 'self' 'unsafe-inline' 'nonce-r4nd0m'",
            True,
            "Content-Security-Policy present, scripts restricted",
            id="unsafe-inline-with-nonce",
        ),
        pytest.param(
            "script-src 'unsafe-inline' 'sha256-B2yPHKaXnvFWtRChIbabYmUBFZdVfKKXHbWtWidDVF8='",
            True,
            "Content-Security-Policy present, scripts restricted",
            id="unsafe-inline-with-hash",
        ),
        pytest.param(
            "script-src * 'unsafe-inline'",
            False,
            "Content-Security-Policy lets scripts come from *, 'unsafe-inline'",
            id="any-and-unsafe-inline",
        ),
        pytest.param(
            "script-src 'self' https: data:",
            False,
            "Content-Security-Policy lets scripts come from https:, data:",
            id="scheme-sources",
        ),
        pytest.param(
            "script-src 'self' 'nonce-r4nd0m' *",
            False,
            "Content-Security-Policy lets scripts come from *",
            id="a-nonce-does-not-excuse-any-source",
        ),
        pytest.param(
            "default-src *",
            False,
            "Content-Security-Policy lets scripts come from *",
            id="default-src-any-without-script-src",
        ),
        pytest.param(
            "default-src 'self'",
            True,
            "Content-Security-Policy present, scripts restricted",
            id="default-src-self-without-script-src",
        ),
        pytest.param(
            "default-src *; script-src 'self'",
            True,
            "Content-Security-Policy present, scripts restricted",
            id="script-src-overrides-default-src",
        ),
        pytest.param(
            "default-src 'self'; script-src *",
            False,
            "Content-Security-Policy lets scripts come from *",
            id="script-src-any-overrides-default-src",
        ),
        pytest.param(
            "script-src 'self'; script-src *",
            True,
            "Content-Security-Policy present, scripts restricted",
            id="first-script-src-wins",
        ),
        pytest.param(
            "SCRIPT-SRC 'SELF' 'UNSAFE-INLINE'",
            False,
            "Content-Security-Policy lets scripts come from 'unsafe-inline'",
            id="upper-case-directive-and-keyword",
        ),
        pytest.param(
            "img-src 'self'; style-src 'self'; frame-ancestors 'none'",
            False,
            "Content-Security-Policy sets neither script-src nor default-src",
            id="no-script-src-nor-default-src",
        ),
    ],
)
def test_csp(policy: str, ok: bool, message: str) -> None:
    """Scripts open to any source, a scheme, or inline code without a nonce or hash are weak."""
    verdict = judged("csp", {"Content-Security-Policy": policy})

    assert verdict == HeaderSeen("csp", "Content-Security-Policy", ok, policy, message)


def test_a_report_only_csp_enforces_nothing() -> None:
    """Only Content-Security-Policy-Report-Only: missing, and the message says why."""
    verdict = judged(
        "csp", {"Content-Security-Policy-Report-Only": "default-src 'self'; script-src 'self'"}
    )

    assert verdict == HeaderSeen(
        "csp",
        "Content-Security-Policy",
        False,
        None,
        "Content-Security-Policy is missing"
        " (only Content-Security-Policy-Report-Only, which enforces nothing)",
    )


def test_an_empty_csp_counts_as_missing() -> None:
    """An empty Content-Security-Policy restricts nothing: missing, with the empty value shown."""
    verdict = judged("csp", {"Content-Security-Policy": ""})

    assert verdict == HeaderSeen(
        "csp", "Content-Security-Policy", False, "", "Content-Security-Policy is missing"
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param("", {}, id="empty"),
        pytest.param("default-src 'self'", {"default-src": ["'self'"]}, id="one"),
        pytest.param(
            "default-src 'self'; script-src 'self' https://cdn.example",
            {"default-src": ["'self'"], "script-src": ["'self'", "https://cdn.example"]},
            id="two",
        ),
        pytest.param(
            "script-src 'self'; script-src *", {"script-src": ["'self'"]}, id="first-one-wins"
        ),
        pytest.param(
            "  ;; Script-Src   'self'\t'nonce-x' ;  ",
            {"script-src": ["'self'", "'nonce-x'"]},
            id="blank-parts-and-whitespace",
        ),
        pytest.param(
            "SCRIPT-SRC 'SELF'", {"script-src": ["'SELF'"]}, id="name-lowered-values-kept"
        ),
        pytest.param(
            "upgrade-insecure-requests; frame-ancestors",
            {"upgrade-insecure-requests": [], "frame-ancestors": []},
            id="directives-without-values",
        ),
        pytest.param(
            REFERENCE_CSP,
            {
                "default-src": ["'self'"],
                "script-src": ["'self'"],
                "style-src": ["'self'"],
                "img-src": ["'self'", "data:"],
                "object-src": ["'none'"],
                "base-uri": ["'self'"],
                "form-action": ["'self'"],
                "frame-ancestors": ["'none'"],
            },
            id="reference-service",
        ),
    ],
)
def test_csp_directives(policy: str, expected: dict[str, list[str]]) -> None:
    """A policy parses into lower-cased directive names and their sources, first one winning."""
    assert csp_directives(policy) == expected


# ---------------------------------------------------------------------------------------------
# HSTS


@pytest.mark.parametrize(
    ("value", "ok", "message"),
    [
        pytest.param(
            "max-age=15552000",
            True,
            "Strict-Transport-Security max-age=15552000 (180 days)",
            id="exactly-six-months",
        ),
        pytest.param(
            "max-age=15551999",
            False,
            "Strict-Transport-Security max-age=15551999 (179.99 days) is under 15552000 (180 days)",
            id="one-second-short-does-not-read-as-180-days",
        ),
        pytest.param(
            "max-age=86400",
            False,
            "Strict-Transport-Security max-age=86400 (1 day) is under 15552000 (180 days)",
            id="one-day",
        ),
        pytest.param(
            "max-age=2592000; includeSubDomains",
            False,
            "Strict-Transport-Security max-age=2592000 (30 days) is under 15552000 (180 days)",
            id="thirty-days",
        ),
        pytest.param(
            "max-age=0",
            False,
            "Strict-Transport-Security max-age=0 (0 days) is under 15552000 (180 days)",
            id="zero-switches-hsts-off",
        ),
        pytest.param(
            "includeSubDomains; max-age=31536000; preload",
            True,
            "Strict-Transport-Security max-age=31536000 (365 days)",
            id="max-age-not-first",
        ),
        pytest.param(
            'max-age="31536000"',
            True,
            "Strict-Transport-Security max-age=31536000 (365 days)",
            id="quoted",
        ),
        pytest.param(
            "MAX-AGE = 31536000",
            True,
            "Strict-Transport-Security max-age=31536000 (365 days)",
            id="upper-case-and-spaces",
        ),
        pytest.param(
            "includeSubDomains",
            False,
            "Strict-Transport-Security has no max-age: 'includeSubDomains'",
            id="no-max-age",
        ),
        pytest.param(
            "x-max-age=31536000",
            False,
            "Strict-Transport-Security has no max-age: 'x-max-age=31536000'",
            id="another-directive-ending-in-max-age",
        ),
        pytest.param(
            "max-age=forever",
            False,
            "Strict-Transport-Security has no max-age: 'max-age=forever'",
            id="not-a-number",
        ),
    ],
)
def test_hsts(value: str, ok: bool, message: str) -> None:
    """HSTS needs a max-age of at least six months (180 days) by default."""
    verdict = judged("hsts", {"Strict-Transport-Security": value})

    assert verdict == HeaderSeen("hsts", "Strict-Transport-Security", ok, value, message)


@pytest.mark.parametrize(
    ("max_age", "ok"),
    [
        pytest.param(SIX_MONTHS_S - 1, False, id="one-second-under"),
        pytest.param(SIX_MONTHS_S, True, id="exactly"),
    ],
)
def test_hsts_six_months_boundary(max_age: int, ok: bool) -> None:
    """The default limit is inclusive: 15552000 s passes, one second less fails."""
    verdict = judged("hsts", {"Strict-Transport-Security": f"max-age={max_age}"})

    assert verdict.ok is ok


def test_hsts_limit_is_configurable() -> None:
    """A lower hsts_min_age_s accepts a max-age the default would refuse."""
    headers = {"Strict-Transport-Security": "max-age=86400"}

    assert judged("hsts", headers, hsts_min_age_s=86400).ok
    assert not judged("hsts", headers, hsts_min_age_s=86401).ok


# ---------------------------------------------------------------------------------------------
# nosniff


@pytest.mark.parametrize(
    ("value", "ok", "message"),
    [
        pytest.param("nosniff", True, "X-Content-Type-Options: nosniff", id="nosniff"),
        pytest.param(" NoSniff ", True, "X-Content-Type-Options: nosniff", id="case-and-space"),
        pytest.param(
            "sniff",
            False,
            "X-Content-Type-Options is 'sniff', not 'nosniff'",
            id="wrong-value",
        ),
        pytest.param(
            "nosniff, nosniff",
            False,
            "X-Content-Type-Options is 'nosniff, nosniff', not 'nosniff'",
            id="sent-twice",
        ),
        pytest.param("", False, "X-Content-Type-Options is '', not 'nosniff'", id="empty"),
    ],
)
def test_nosniff(value: str, ok: bool, message: str) -> None:
    """Only the value `nosniff` (any case) turns MIME sniffing off."""
    verdict = judged("nosniff", {"X-Content-Type-Options": value})

    assert verdict == HeaderSeen("nosniff", "X-Content-Type-Options", ok, value, message)


# ---------------------------------------------------------------------------------------------
# frame protection


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {"X-Frame-Options": "DENY"},
            HeaderSeen("frame", "X-Frame-Options", True, "DENY", "X-Frame-Options: DENY"),
            id="xfo-deny",
        ),
        pytest.param(
            {"X-Frame-Options": "sameorigin"},
            HeaderSeen(
                "frame", "X-Frame-Options", True, "sameorigin", "X-Frame-Options: sameorigin"
            ),
            id="xfo-sameorigin-any-case",
        ),
        pytest.param(
            {"X-Frame-Options": "ALLOW-FROM https://partner.example"},
            HeaderSeen(
                "frame",
                "X-Frame-Options",
                False,
                "ALLOW-FROM https://partner.example",
                "X-Frame-Options is 'ALLOW-FROM https://partner.example', not DENY",
            ),
            id="xfo-allow-from-is-weak",
        ),
        pytest.param(
            {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"},
            HeaderSeen(
                "frame", "Content-Security-Policy", True, "'none'", "frame-ancestors 'none'"
            ),
            id="frame-ancestors-none-without-xfo",
        ),
        pytest.param(
            {"Content-Security-Policy": "frame-ancestors 'self' https://partner.example"},
            HeaderSeen(
                "frame",
                "Content-Security-Policy",
                True,
                "'self' https://partner.example",
                "frame-ancestors 'self' https://partner.example",
            ),
            id="frame-ancestors-named-origins",
        ),
        pytest.param(
            {"Content-Security-Policy": "frame-ancestors *", "X-Frame-Options": "DENY"},
            HeaderSeen(
                "frame",
                "Content-Security-Policy",
                False,
                "*",
                "CSP frame-ancestors lets any site frame the page",
            ),
            id="frame-ancestors-any-overrides-xfo",
        ),
        pytest.param(
            {"Content-Security-Policy": "frame-ancestors https:"},
            HeaderSeen(
                "frame",
                "Content-Security-Policy",
                False,
                "https:",
                "CSP frame-ancestors lets any site frame the page",
            ),
            id="frame-ancestors-any-https-site",
        ),
        pytest.param(
            {"Content-Security-Policy": "default-src 'self'"},
            HeaderSeen(
                "frame",
                "X-Frame-Options",
                False,
                None,
                "no frame protection: X-Frame-Options and CSP frame-ancestors are both missing",
            ),
            id="csp-without-frame-ancestors-and-no-xfo",
        ),
        pytest.param(
            {"Content-Security-Policy-Report-Only": "frame-ancestors 'none'"},
            HeaderSeen(
                "frame",
                "X-Frame-Options",
                False,
                None,
                "no frame protection: X-Frame-Options and CSP frame-ancestors are both missing",
            ),
            id="report-only-frame-ancestors-does-not-count",
        ),
    ],
)
def test_frame_protection(headers: dict[str, str], expected: HeaderSeen) -> None:
    """Framing is refused by CSP frame-ancestors (which wins when present) or X-Frame-Options
    DENY / SAMEORIGIN; ALLOW-FROM and frame-ancestors open to any site are weak."""
    assert judged("frame", headers) == expected


# ---------------------------------------------------------------------------------------------
# Referrer-Policy

HINT = (
    "use one of no-referrer, origin, origin-when-cross-origin, same-origin, strict-origin,"
    " strict-origin-when-cross-origin"
)


@pytest.mark.parametrize(
    ("value", "ok", "message"),
    [
        pytest.param(
            "unsafe-url",
            False,
            f"Referrer-Policy 'unsafe-url' sends full URLs to other origins; {HINT}",
            id="unsafe-url",
        ),
        pytest.param(
            "no-referrer-when-downgrade",
            False,
            "Referrer-Policy 'no-referrer-when-downgrade' sends full URLs to other origins;"
            f" {HINT}",
            id="no-referrer-when-downgrade",
        ),
        pytest.param(
            "origin-when-cross-origin",
            True,
            "Referrer-Policy: origin-when-cross-origin",
            id="origin-when-cross-origin-sends-other-origins-the-origin-only",
        ),
        pytest.param(
            "unsafe-url, strict-origin",
            True,
            "Referrer-Policy: strict-origin",
            id="list-last-wins-safe",
        ),
        pytest.param(
            "strict-origin,unsafe-url",
            False,
            f"Referrer-Policy 'unsafe-url' sends full URLs to other origins; {HINT}",
            id="list-last-wins-unsafe",
        ),
        pytest.param("No-Referrer", True, "Referrer-Policy: no-referrer", id="any-case"),
        pytest.param(
            "same-origin, ", True, "Referrer-Policy: same-origin", id="trailing-comma-ignored"
        ),
        pytest.param(
            "strict-origin, no-such-policy",
            True,
            "Referrer-Policy: strict-origin",
            id="unknown-token-ignored-as-browsers-do",
        ),
        pytest.param(
            " , ",
            False,
            "Referrer-Policy ' , ' names no policy browsers know",
            id="only-commas",
        ),
        pytest.param(
            "no-such-policy",
            False,
            "Referrer-Policy 'no-such-policy' names no policy browsers know",
            id="only-unknown",
        ),
    ],
)
def test_referrer_policy(value: str, ok: bool, message: str) -> None:
    """The policy browsers apply (the last one they know) must not send full URLs elsewhere."""
    verdict = judged("referrer", {"Referrer-Policy": value})

    assert verdict == HeaderSeen("referrer", "Referrer-Policy", ok, value, message)


@pytest.mark.parametrize("policy", sorted(SAFE_REFERRER_POLICIES))
def test_each_safe_referrer_policy_passes(policy: str) -> None:
    """Every policy in SAFE_REFERRER_POLICIES passes on its own."""
    verdict = judged("referrer", {"Referrer-Policy": policy})

    assert verdict.ok, verdict.message
    assert verdict.message == f"Referrer-Policy: {policy}"


def test_an_unknown_check_is_a_key_error() -> None:
    """A check name outside CHECKS is a programming error, not a verdict."""
    with pytest.raises(KeyError):
        judged("cors", REFERENCE)
