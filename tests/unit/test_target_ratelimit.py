"""The reference service's token bucket, on an injected clock."""

from __future__ import annotations

from releasegate.target.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_with_the_wait() -> None:
    """`burst` requests pass at once; the next is refused, saying how long until a token."""
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)

    answers = [limiter.allow("a")[0] for _ in range(4)]
    allowed, wait = limiter.allow("a")

    assert answers == [True, True, True, False]
    assert not allowed
    assert wait == 0.5


def test_tokens_come_back_at_the_rate() -> None:
    """After 1/rate seconds one more request passes."""
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=1, clock=clock)
    limiter.allow("a")

    clock.now += 0.5

    assert limiter.allow("a")[0]


def test_clients_have_their_own_buckets() -> None:
    """One client's burst does not limit another."""
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=Clock())
    limiter.allow("a")

    assert limiter.allow("b")[0]
    assert not limiter.allow("a")[0]


def test_a_zero_rate_turns_the_limit_off() -> None:
    """rate 0: everything passes."""
    limiter = RateLimiter(rate_per_s=0.0, burst=1, clock=Clock())

    assert all(limiter.allow("a")[0] for _ in range(100))


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    """Retry-After rounds up and never says 0."""
    assert [RateLimiter.retry_after_header(w) for w in (0.01, 1.0, 1.2)] == ["1", "1", "2"]
