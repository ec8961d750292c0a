"""`releasegate target serve`'s own parsing: the rate limit option and the announced URL."""

from __future__ import annotations

import pytest

from releasegate.target.command import parse_rate_limit
from releasegate.target.server import service_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200:400", (200.0, 400)), ("5", (5.0, 10)), ("0.2", (0.2, 1)), ("0", (0.0, 1))],
    ids=["rate-and-burst", "burst-defaults-to-two-seconds", "burst-at-least-one", "off"],
)
def test_rate_limits(text: str, expected: tuple[float, int]) -> None:
    """RPS[:BURST]; without BURST, two seconds' worth."""
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("fast", "'fast' is not RPS or RPS:BURST"),
        ("10:many", "is not RPS or RPS:BURST"),
        ("-1", "the rate must be a number >= 0"),
        ("10:0", "the burst >= 1"),
        ("inf", "the rate must be a number >= 0"),
    ],
    ids=["word", "burst-word", "negative", "zero-burst", "infinite"],
)
def test_bad_rate_limits(text: str, reason: str) -> None:
    """A bad --rate-limit says what is wrong."""
    with pytest.raises(ValueError, match=reason):
        parse_rate_limit(text)


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:8000"), ("::1", "http://[::1]:8000")],
    ids=["ipv4", "ipv6"],
)
def test_announced_urls_bracket_ipv6_hosts(host: str, url: str) -> None:
    """An IPv6 address is written in brackets, as URLs need."""
    assert service_url(host, 8000) == url
