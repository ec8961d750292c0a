"""The in-process cache in front of `GET /api/tickets`: the ticket list, kept for a second.

A short time to live rather than invalidation on every write, so that a steady reader hits
(the signal teams watch is the hit rate) even while tickets are written. This service's own
writes are applied to the cached list as they commit (write-through), so a client reads what it
just wrote; writes by another process (a second worker on the same database) show within the
time to live.

A fill that read the database before a write committed must not overwrite the list that write
updated: every write bumps `generation`, and a fill started under an older one is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.target.tickets_store import Ticket

TTL_S = 1.0


@dataclass
class TicketCache:
    """The cached ticket list (oldest first) and the lookups counted since the service started."""

    ttl_s: float = TTL_S
    requests: int = 0
    hits: int = 0
    generation: int = 0
    _tickets: list[Ticket] | None = field(default=None, repr=False)
    _expires_at: float = 0.0

    @property
    def misses(self) -> int:
        """Lookups that found nothing fresh."""
        return self.requests - self.hits

    @property
    def hit_rate(self) -> float | None:
        """hits / requests; None before the first lookup."""
        return self.hits / self.requests if self.requests else None

    def lookup(self, now: float, *, forced_miss: bool = False) -> list[Ticket] | None:
        """The list while fresh at `now` (monotonic seconds), else None; counted either way.
        `forced_miss` (the `cache-miss` fault) makes every lookup a miss."""
        self.requests += 1
        if forced_miss or self._tickets is None or now >= self._expires_at:
            return None
        self.hits += 1
        return self._tickets

    def fill(self, tickets: list[Ticket], now: float, generation: int) -> None:
        """Keep `tickets`, read from the database under `generation`, until `now` + the TTL;
        dropped when a write came in meanwhile."""
        if generation == self.generation:
            self._tickets, self._expires_at = tickets, now + self.ttl_s

    def stored(self, ticket: Ticket) -> None:
        """A ticket was created or changed: the cached list gets it (idempotent)."""
        self.generation += 1
        if self._tickets is not None:
            others = [t for t in self._tickets if t["id"] != ticket["id"]]
            self._tickets = sorted([*others, ticket], key=lambda t: t["id"])

    def deleted(self, ticket_id: int) -> None:
        """A ticket was deleted: the cached list loses it."""
        self.generation += 1
        if self._tickets is not None:
            self._tickets = [t for t in self._tickets if t["id"] != ticket_id]
