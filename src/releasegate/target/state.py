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
from releasegate.target.job_queue import JobStore
from releasegate.target.metrics import Metrics
from releasegate.target.process_memory import Leak
from releasegate.target.ratelimit import RateLimiter
from releasegate.target.settings import ServiceSettings
from releasegate.target.ticket_cache import TicketCache
from releasegate.target.tickets_store import DatabaseError, Ticket, TicketStore

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
    jobs: JobStore
    metrics: Metrics = field(default_factory=Metrics)
    # closes the listener for that many seconds, then reopens it (set by server.py)
    refuse: Callable[[float], None] = _no_listener
    sessions: set[str] = field(default_factory=set)
    # the in-process cache the health check exercises
    cache: dict[str, float] = field(default_factory=dict)
    # the ticket list behind GET /api/tickets, with its hit and miss counts
    ticket_cache: TicketCache = field(default_factory=TicketCache)
    # set when a job is enqueued, so the worker (background.py) takes it at once
    job_enqueued: asyncio.Event = field(default_factory=asyncio.Event)
    # what the leak fault holds
    leak: Leak = field(default_factory=Leak)

    def _check_database(self) -> None:
        if self.faults.db_down:
            raise DatabaseError("database unreachable (db-down fault)")

    async def db(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a database call in a worker thread; under `db-down` every call fails."""
        self._check_database()
        return await asyncio.to_thread(call, *args, **kwargs)

    async def listed_tickets(self) -> list[Ticket]:
        """Every ticket, through the cache (a lookup counted in /metrics and /api/stats).
        Under `db-down` it fails like any database call: the cache does not hide the fault."""
        self._check_database()
        cache = self.ticket_cache
        cached = cache.lookup(time.monotonic(), forced_miss=self.faults.cache_miss)
        self.metrics.cache_lookup(hit=cached is not None)
        if cached is not None:
            return cached
        generation = cache.generation
        tickets = await self.db(self.store.all)
        if not self.faults.cache_miss:
            cache.fill(tickets, time.monotonic(), generation)
        return tickets

    def job_enqueued_here(self) -> None:
        """Count a job this process enqueued, and wake the worker."""
        self.metrics.jobs_enqueued.inc()
        self.job_enqueued.set()

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
