"""What the handlers and middlewares of one app share, and helpers to reach it from a request."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from aiohttp import web

from releasegate.target.faults import FaultSet
from releasegate.target.metrics import Metrics
from releasegate.target.ratelimit import RateLimiter
from releasegate.target.settings import ServiceSettings
from releasegate.target.tickets_store import DatabaseError, TicketStore

P = ParamSpec("P")
T = TypeVar("T")


def _no_listener(seconds: float) -> None:
    """Until the server hands over its listener there is nothing to close."""


@dataclass
class State:
    """One app's shared state. `faults` is replaced whole when faults change, never mutated."""

    settings: ServiceSettings
    store: TicketStore
    faults: FaultSet
    limiter: RateLimiter
    random: random.Random
    started_at: str
    metrics: Metrics = field(default_factory=Metrics)
    # closes the listener for that many seconds, then reopens it (set by server.py)
    refuse: Callable[[float], None] = _no_listener
    sessions: set[str] = field(default_factory=set)
    # the in-process cache the health check exercises
    cache: dict[str, float] = field(default_factory=dict)

    async def db(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a database call in a worker thread; under `db-down` every call fails."""
        if self.faults.db_down:
            raise DatabaseError("database unreachable (db-down fault)")
        return await asyncio.to_thread(call, *args, **kwargs)

    def check_cache(self) -> float:
        """Write and read back a value; milliseconds taken (ValueError when it reads wrong)."""
        started = time.perf_counter()
        self.cache["health-probe"] = started
        if self.cache.get("health-probe") != started:
            raise ValueError("cache returned a different value than was stored")
        return (time.perf_counter() - started) * 1000.0


STATE = web.AppKey("releasegate_target_state", State)


def state_of(request: web.Request) -> State:
    """The state of the app serving `request`."""
    return request.app[STATE]
