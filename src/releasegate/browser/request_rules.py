"""What a page must send and must not: URL patterns against the visit's request log.

A pattern is a shell-style glob over the whole URL (`fnmatch`, case-sensitive; `*` also matches
`/`): `*/api/*/envelope/*` (an error tracker's envelope endpoint), `https://plausible.io/api/event`
(an analytics beacon), `https://api.dev.example.com/*` (a development API host), `http://*`.
Pure functions: the judges in `page_checks` and the visit's wait use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

# Schemes a page served over https must not load anything over (the browser blocks or upgrades
# most of it; a request it still sent, or tried to, is a finding).
INSECURE_SCHEMES = frozenset({"http", "ws"})


def matches(pattern: str, url: str) -> bool:
    """Whether `url` matches the glob `pattern` as a whole."""
    return fnmatchcase(url, pattern)


def matching(pattern: str, urls: Iterable[str]) -> list[str]:
    """The URLs `pattern` matches, in their order."""
    return [url for url in urls if matches(pattern, url)]


def unmatched(patterns: Sequence[str], urls: Sequence[str]) -> list[str]:
    """The patterns that no URL in `urls` matches (an expected request not sent)."""
    return [pattern for pattern in patterns if not matching(pattern, urls)]


def is_https(url: str) -> bool:
    """Whether `url` is served over TLS (https)."""
    return urlsplit(url).scheme.lower() == "https"


def is_insecure(url: str) -> bool:
    """Whether a request to `url` travels unencrypted (http://, ws://)."""
    return urlsplit(url).scheme.lower() in INSECURE_SCHEMES
