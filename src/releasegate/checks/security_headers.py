"""Security headers judged one by one: present, and not so weak that they protect nothing.

The defaults follow what browsers enforce today (OWASP's secure headers list): a CSP whose
scripts are not open to any source, HSTS for at least six months (only meaningful over https),
`nosniff`, framing refused by X-Frame-Options or CSP frame-ancestors, and a Referrer-Policy that
does not send full URLs to other origins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from releasegate.outcome import Judged

CHECKS = ("csp", "hsts", "nosniff", "frame", "referrer")

# Referrer policies that do not leak a page's path to other origins (origin-when-cross-origin
# sends other origins the origin only, like `origin`)
SAFE_REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "origin",
        "origin-when-cross-origin",
    }
)
# Every policy browsers know (the W3C Referrer Policy list); other tokens are ignored by them.
# The two left out of the safe set send the full URL, path and query, to other origins.
KNOWN_REFERRER_POLICIES = SAFE_REFERRER_POLICIES | {"no-referrer-when-downgrade", "unsafe-url"}


def _get(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def csp_directives(policy: str) -> dict[str, list[str]]:
    """`default-src 'self'; script-src ...` -> {"default-src": ["'self'"], ...}; the first
    occurrence of a directive wins, as in browsers."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def _csp(headers: Mapping[str, str], **_: object) -> Judged:
    name = "Content-Security-Policy"
    value = _get(headers, name)
    if not value:
        only = " (only Content-Security-Policy-Report-Only, which enforces nothing)"
        extra = only if _get(headers, "Content-Security-Policy-Report-Only") else ""
        return Judged.failed(f"{name} is missing{extra}", measured=value)
    directives = csp_directives(value)
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        return Judged.failed(f"{name} sets neither script-src nor default-src", measured=value)
    lowered = [s.lower() for s in scripts]
    keyed = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in lowered)
    weak = [s for s in lowered if s in ("*", "http:", "https:", "data:")]
    if "'unsafe-inline'" in lowered and not keyed:
        weak.append("'unsafe-inline'")
    if weak:
        return Judged.failed(f"{name} lets scripts come from {', '.join(weak)}", measured=value)
    return Judged.passed(f"{name} present, scripts restricted", measured=value)


_MAX_AGE = re.compile(r"(?:^|;)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def _hsts(headers: Mapping[str, str], *, hsts_min_age_s: float, **_: object) -> Judged:
    name = "Strict-Transport-Security"
    value = _get(headers, name)
    if not value:
        return Judged.failed(f"{name} is missing", measured=value)
    match = _MAX_AGE.search(value)
    if match is None:
        return Judged.failed(f"{name} has no max-age: {value!r}", measured=value)
    age = int(match.group(1))
    if age < hsts_min_age_s:
        return Judged.failed(
            f"{name} max-age={age} ({_days(age)}) is under"
            f" {hsts_min_age_s:.0f} ({_days(hsts_min_age_s)})",
            measured=value,
        )
    return Judged.passed(f"{name} max-age={age} ({_days(age)})", measured=value)


def _days(seconds: float) -> str:
    """`180 days`, or `179.99 days` (rounded down) for one second short: never a value that
    reads as meeting a limit it misses."""
    days = seconds / 86400
    if days == int(days):
        return f"{int(days)} day" + ("" if days == 1 else "s")
    return f"{math.floor(days * 100) / 100:g} days"


def _nosniff(headers: Mapping[str, str], **_: object) -> Judged:
    name = "X-Content-Type-Options"
    value = _get(headers, name)
    if value is None:
        return Judged.failed(f"{name} is missing", measured=value)
    if value.strip().lower() != "nosniff":
        return Judged.failed(f"{name} is {value!r}, not 'nosniff'", measured=value)
    return Judged.passed(f"{name}: nosniff", measured=value)


def _frame_ancestors(headers: Mapping[str, str]) -> list[str] | None:
    return csp_directives(_get(headers, "Content-Security-Policy") or "").get("frame-ancestors")


def _frame(headers: Mapping[str, str], **_: object) -> Judged:
    ancestors = _frame_ancestors(headers)
    if ancestors is not None:
        lowered = [a.lower() for a in ancestors]
        shown = " ".join(ancestors)
        if "*" in lowered or any(a in ("http:", "https:") for a in lowered):
            return Judged.failed("CSP frame-ancestors lets any site frame the page", measured=shown)
        return Judged.passed(f"frame-ancestors {shown}", measured=shown)
    xfo = _get(headers, "X-Frame-Options")
    if xfo is None:
        return Judged.failed(
            "no frame protection: X-Frame-Options and CSP frame-ancestors are both missing"
        )
    if xfo.strip().upper() not in ("DENY", "SAMEORIGIN"):
        return Judged.failed(f"X-Frame-Options is {xfo!r}, not DENY", measured=xfo)
    return Judged.passed(f"X-Frame-Options: {xfo}", measured=xfo)


def _referrer(headers: Mapping[str, str], **_: object) -> Judged:
    name = "Referrer-Policy"
    value = _get(headers, name)
    if not value:
        return Judged.failed(f"{name} is missing", measured=value)
    # several policies: browsers use the last one they know, and ignore the others
    known = [
        p for p in (t.strip().lower() for t in value.split(",")) if p in KNOWN_REFERRER_POLICIES
    ]
    if not known:
        return Judged.failed(f"{name} {value!r} names no policy browsers know", measured=value)
    policy = known[-1]
    if policy not in SAFE_REFERRER_POLICIES:
        return Judged.failed(
            f"{name} {policy!r} sends full URLs to other origins; use one of"
            f" {', '.join(sorted(SAFE_REFERRER_POLICIES))}",
            measured=value,
        )
    return Judged.passed(f"{name}: {policy}", measured=value)


_JUDGES: Mapping[str, Callable[..., Judged]] = {
    "csp": _csp,
    "hsts": _hsts,
    "nosniff": _nosniff,
    "frame": _frame,
    "referrer": _referrer,
}


_HEADERS: Mapping[str, str] = {
    "csp": "Content-Security-Policy",
    "hsts": "Strict-Transport-Security",
    "nosniff": "X-Content-Type-Options",
    "frame": "X-Frame-Options",
    "referrer": "Referrer-Policy",
}


def judge_header(
    check: str, headers: Mapping[str, str], *, hsts_min_age_s: float = 180 * 86400
) -> Judged:
    """Judge one of CHECKS against a response's headers: the judgement, why, and as `measured`
    the value of the header judged (`header_judged`; None when absent)."""
    return _JUDGES[check](headers, hsts_min_age_s=hsts_min_age_s)


def header_judged(check: str, headers: Mapping[str, str]) -> str:
    """The header one of CHECKS judges on these headers: the frame check judges CSP
    frame-ancestors when the policy has that directive (browsers then ignore X-Frame-Options),
    else X-Frame-Options."""
    if check == "frame" and _frame_ancestors(headers) is not None:
        return "Content-Security-Policy"
    return _HEADERS[check]
