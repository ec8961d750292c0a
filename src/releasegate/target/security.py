"""The security headers every response carries (and `drop-header=NAME` can take away)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        # Scripts only from our own /static: no inline code, so an injected <script> cannot run.
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            " object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        ),
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
    }
)


def canonical_header(name: str) -> str | None:
    """The security header called `name` (any case) as the service sends it, or None."""
    wanted = name.strip().lower()
    return next((h for h in SECURITY_HEADERS if h.lower() == wanted), None)
