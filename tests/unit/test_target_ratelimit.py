"""The reference service's token bucket, on an injected clock (no sleeps)."""

from __future__ import annotations

import pytest

from releasegate.target.ratelimit import MAX_TRACKED_CLIENTS, RateLimiter, retry_after


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_is_refused_with_the_wait() -> None:
    """`burst` requests pass at once; the next is refused, saying how long until a token."""
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=Clock())

    answers = [limiter.allow("a")[0] for _ in range(3)]
    allowed, wait = limiter.allow("a")

    assert answers == [True, True, True]
    assert not allowed
    assert wait == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate() -> None:
    """After 1/rate seconds exactly one more request passes."""
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=1, clock=clock)
    limiter.allow("a")

    clock.now += 0.5

    assert limiter.allow("a")[0]
    assert not limiter.allow("a")[0]


def test_an_idle_client_gets_no_more_than_the_burst() -> None:
    """A long pause refills the bucket to `burst`, not beyond."""
    clock = Clock()
    limiter = RateLimiter(rate_per_s=10.0, burst=2, clock=clock)
    limiter.allow("a")

    clock.now += 3600

    assert [limiter.allow("a")[0] for _ in range(3)] == [True, True, False]


def test_clients_have_their_own_buckets() -> None:
    """One client's burst does not limit another."""
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=Clock())
    limiter.allow("a")

    assert limiter.allow("b")[0]
    assert not limiter.allow("a")[0]


def test_a_zero_rate_turns_the_limit_off() -> None:
    """Rate 0: everything passes and nothing is tracked."""
    limiter = RateLimiter(rate_per_s=0.0, burst=1, clock=Clock())

    assert all(limiter.allow("a")[0] for _ in range(100))
    assert not limiter.enabled
    assert limiter.tracked_clients() == 0


def test_refilled_buckets_are_forgotten_when_many_clients_are_tracked() -> None:
    """Memory stays bounded: at the cap, clients whose bucket is full again are dropped;
    a client still refilling keeps its state."""
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    for n in range(MAX_TRACKED_CLIENTS):
        limiter.allow(f"client-{n}")
    clock.now += 0.5
    limiter.allow("busy")  # nobody is full yet: nothing forgotten

    clock.now += 0.5
    limiter.allow("newcomer")  # the first clients are full again: forgotten

    assert limiter.tracked_clients() == 2
    assert not limiter.allow("busy")[0]


@pytest.mark.parametrize(
    ("wait_s", "header"),
    [(0.0, "1"), (0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")],
    ids=["zero", "tiny", "one", "round-up", "minute"],
)
def test_retry_after_is_whole_seconds_at_least_one(wait_s: float, header: str) -> None:
    """Retry-After rounds up and never says 0."""
    assert retry_after(wait_s) == header
