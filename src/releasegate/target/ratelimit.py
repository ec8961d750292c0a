"""A token bucket per client address: a steady rate, a bounded burst, the clock injected."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Past this many clients, buckets that have refilled completely are forgotten: a full bucket
# is what a new client gets anyway, so nothing changes but the memory held.
MAX_TRACKED_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """`allow(client)` answers whether one more request passes, and if not, the wait.

    Each client starts with `burst` tokens; a request takes one; tokens come back at
    `rate_per_s` up to `burst`. A rate of 0 turns the limit off.
    """

    rate_per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict, repr=False)

    @property
    def enabled(self) -> bool:
        """Whether requests are limited at all."""
        return self.rate_per_s > 0

    def allow(self, client: str) -> tuple[bool, float]:
        """(allowed, seconds until the client's next token); takes a token when allowed."""
        if not self.enabled:
            return True, 0.0
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_CLIENTS:
                self._forget_full_buckets(now)
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate_per_s
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True, 0.0
        return False, (1.0 - bucket.tokens) / self.rate_per_s

    def _forget_full_buckets(self, now: float) -> None:
        full_after = self.burst / self.rate_per_s
        for client in [c for c, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[client]

    def tracked_clients(self) -> int:
        """How many clients have a bucket (bounded by MAX_TRACKED_CLIENTS while they refill)."""
        return len(self._buckets)


def retry_after(wait_s: float) -> str:
    """The Retry-After header for a wait: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_s)))
