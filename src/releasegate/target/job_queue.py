"""The background job queue's table, Sidekiq-like: jobs are enqueued, a worker processes each
once, and the processed and failed totals are counted from the table, so they survive restarts.

It lives in the tickets' database (the same engine and, for in-memory SQLite, the same lock), so
a ticket and its `notify` job commit in one transaction. Like the ticket store every method is
synchronous and may block: the app calls them through `asyncio.to_thread` (background.py runs
the worker and the scheduler).

Claiming is a conditional update (`... WHERE id = :id AND status = 'queued'`), atomic on SQLite
and PostgreSQL alike: when two workers share the database (a graceful restart hands over from
one process to the next) each job is still finished once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)

from releasegate.target.tickets_store import Ticket, TicketStore

KINDS = ("notify", "digest")
QUEUED, PROCESSED, FAILED = "queued", "processed", "failed"
REASON_MAX = 200

metadata = MetaData()
jobs = Table(
    "releasegate_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("payload", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    # ISO 8601 text, as the tickets' times
    Column("enqueued_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    Column("reason", String(REASON_MAX), nullable=True),  # why it failed
    # the worker's look-up: the oldest queued jobs
    Index("releasegate_jobs_status_id", "status", "id"),
)


@dataclass(frozen=True, kw_only=True)
class JobTotals:
    """Every job ever enqueued, and how many are queued, processed (successfully) and failed."""

    enqueued: int
    queued: int
    processed: int
    failed: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _values(kind: str, payload: str) -> dict[str, str]:
    return {"kind": kind, "payload": payload, "status": QUEUED, "enqueued_at": _now()}


class JobStore:
    """The jobs table, in the database of `tickets`."""

    def __init__(self, tickets: TicketStore) -> None:
        self.tickets = tickets

    def prepare(self) -> None:
        """Create the table (and its index) if missing."""
        with self.tickets.transaction() as db:
            metadata.create_all(db)

    def enqueue(self, kind: str, payload: str = "") -> None:
        """Queue one job."""
        with self.tickets.transaction() as db:
            db.execute(insert(jobs).values(_values(kind, payload)))

    @staticmethod
    def enqueue_notify(db: Connection, ticket: Ticket) -> None:
        """Queue the `notify` job of a new ticket, in the transaction that creates it
        (`TicketStore.create(..., also=JobStore.enqueue_notify)`)."""
        db.execute(insert(jobs).values(_values("notify", str(ticket["id"]))))

    def queued(self, limit: int) -> list[tuple[int, str]]:
        """(id, kind) of up to `limit` queued jobs, oldest first."""
        statement = (
            select(jobs.c.id, jobs.c.kind)
            .where(jobs.c.status == QUEUED)
            .order_by(jobs.c.id)
            .limit(limit)
        )
        with self.tickets.transaction() as db:
            return [(int(job_id), str(kind)) for job_id, kind in db.execute(statement)]

    def finish(self, outcomes: Mapping[int, str | None]) -> list[int]:
        """Mark each job processed (its outcome None) or failed (the outcome is why), unless
        another worker finished it first; the ids marked here."""
        marked: list[int] = []
        now = _now()
        with self.tickets.transaction() as db:
            for job_id, reason in outcomes.items():
                statement = (
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status == QUEUED)
                    .values(
                        status=PROCESSED if reason is None else FAILED,
                        finished_at=now,
                        reason=None if reason is None else reason[:REASON_MAX],
                    )
                )
                if db.execute(statement).rowcount == 1:
                    marked.append(job_id)
        return marked

    def totals(self) -> JobTotals:
        """The totals, counted from the table."""
        with self.tickets.transaction() as db:
            rows = db.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            found = {str(status): int(n) for status, n in rows}
        return JobTotals(
            enqueued=sum(found.values()),
            queued=found.get(QUEUED, 0),
            processed=found.get(PROCESSED, 0),
            failed=found.get(FAILED, 0),
        )
