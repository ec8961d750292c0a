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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class HeaderVerdict:
    """One header check: ok, which header, the value seen (None: absent), and why."""

    check: str
    header: str
    ok: bool
    value: str | None
    message: str


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


def _csp(headers: Mapping[str, str], **_: object) -> HeaderVerdict:
    name = "Content-Security-Policy"
    value = _get(headers, name)
    if not value:
        only = " (only Content-Security-Policy-Report-Only, which enforces nothing)"
        extra = only if _get(headers, "Content-Security-Policy-Report-Only") else ""
        return HeaderVerdict("csp", name, False, value, f"{name} is missing{extra}")
    directives = csp_directives(value)
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        return HeaderVerdict(
            "csp", name, False, value, f"{name} sets neither script-src nor default-src"
        )
    lowered = [s.lower() for s in scripts]
    keyed = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in lowered)
    weak = [s for s in lowered if s in ("*", "http:", "https:", "data:")]
    if "'unsafe-inline'" in lowered and not keyed:
        weak.append("'unsafe-inline'")
    if weak:
        return HeaderVerdict(
            "csp", name, False, value, f"{name} lets scripts come from {', '.join(weak)}"
        )
    return HeaderVerdict("csp", name, True, value, f"{name} present, scripts restricted")


_MAX_AGE = re.compile(r"(?:^|;)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def _hsts(headers: Mapping[str, str], *, hsts_min_age_s: float, **_: object) -> HeaderVerdict:
    name = "Strict-Transport-Security"
    value = _get(headers, name)
    if not value:
        return HeaderVerdict("hsts", name, False, value, f"{name} is missing")
    match = _MAX_AGE.search(value)
    if match is None:
        return HeaderVerdict("hsts", name, False, value, f"{name} has no max-age: {value!r}")
    age = int(match.group(1))
    if age < hsts_min_age_s:
        return HeaderVerdict(
            "hsts",
            name,
            False,
            value,
            f"{name} max-age={age} ({_days(age)}) is under"
            f" {hsts_min_age_s:.0f} ({_days(hsts_min_age_s)})",
        )
    return HeaderVerdict("hsts", name, True, value, f"{name} max-age={age} ({_days(age)})")


def _days(seconds: float) -> str:
    """`180 days`, or `179.99 days` (rounded down) for one second short: never a value that
    reads as meeting a limit it misses."""
    days = seconds / 86400
    if days == int(days):
        return f"{int(days)} day" + ("" if days == 1 else "s")
    return f"{math.floor(days * 100) / 100:g} days"


def _nosniff(headers: Mapping[str, str], **_: object) -> HeaderVerdict:
    name = "X-Content-Type-Options"
    value = _get(headers, name)
    if value is None:
        return HeaderVerdict("nosniff", name, False, value, f"{name} is missing")
    if value.strip().lower() != "nosniff":
        return HeaderVerdict("nosniff", name, False, value, f"{name} is {value!r}, not 'nosniff'")
    return HeaderVerdict("nosniff", name, True, value, f"{name}: nosniff")


def _frame(headers: Mapping[str, str], **_: object) -> HeaderVerdict:
    xfo = _get(headers, "X-Frame-Options")
    ancestors = csp_directives(_get(headers, "Content-Security-Policy") or "").get(
        "frame-ancestors"
    )
    if ancestors is not None:
        lowered = [a.lower() for a in ancestors]
        if "*" in lowered or any(a in ("http:", "https:") for a in lowered):
            return HeaderVerdict(
                "frame",
                "Content-Security-Policy",
                False,
                " ".join(ancestors),
                "CSP frame-ancestors lets any site frame the page",
            )
        shown = " ".join(ancestors)
        return HeaderVerdict(
            "frame", "Content-Security-Policy", True, shown, f"frame-ancestors {shown}"
        )
    if xfo is None:
        return HeaderVerdict(
            "frame",
            "X-Frame-Options",
            False,
            None,
            "no frame protection: X-Frame-Options and CSP frame-ancestors are both missing",
        )
    if xfo.strip().upper() not in ("DENY", "SAMEORIGIN"):
        return HeaderVerdict(
            "frame", "X-Frame-Options", False, xfo, f"X-Frame-Options is {xfo!r}, not DENY"
        )
    return HeaderVerdict("frame", "X-Frame-Options", True, xfo, f"X-Frame-Options: {xfo}")


def _referrer(headers: Mapping[str, str], **_: object) -> HeaderVerdict:
    name = "Referrer-Policy"
    value = _get(headers, name)
    if not value:
        return HeaderVerdict("referrer", name, False, value, f"{name} is missing")
    # several policies: browsers use the last one they know, and ignore the others
    known = [
        p for p in (t.strip().lower() for t in value.split(",")) if p in KNOWN_REFERRER_POLICIES
    ]
    if not known:
        return HeaderVerdict(
            "referrer", name, False, value, f"{name} {value!r} names no policy browsers know"
        )
    policy = known[-1]
    if policy not in SAFE_REFERRER_POLICIES:
        return HeaderVerdict(
            "referrer",
            name,
            False,
            value,
            f"{name} {policy!r} sends full URLs to other origins; use one of"
            f" {', '.join(sorted(SAFE_REFERRER_POLICIES))}",
        )
    return HeaderVerdict("referrer", name, True, value, f"{name}: {policy}")


_JUDGES: Mapping[str, Callable[..., HeaderVerdict]] = {
    "csp": _csp,
    "hsts": _hsts,
    "nosniff": _nosniff,
    "frame": _frame,
    "referrer": _referrer,
}


def judge_header(
    check: str, headers: Mapping[str, str], *, hsts_min_age_s: float = 180 * 86400
) -> HeaderVerdict:
    """Judge one of CHECKS against a response's headers."""
    return _JUDGES[check](headers, hsts_min_age_s=hsts_min_age_s)
