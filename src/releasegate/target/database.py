"""The tickets table on a real database, through SQLAlchemy Core: SQLite or PostgreSQL by URL.

Calls are synchronous; the app runs them in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

STATUSES = ("open", "in_progress", "closed")
SEED_TITLES = ("Printer on floor 2 jams", "VPN drops every hour", "New laptop for Sam")

metadata = MetaData()
tickets = Table(
    "releasegate_tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)


class DatabaseError(Exception):
    """The database could not be used (down, unreachable, refused the query)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TicketStore:
    """Tickets, kept in the database at `url`."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
            # An in-memory SQLite database lives in one connection: share it across threads,
            # and serialise access to it, since one sqlite3 connection is not thread-safe.
            self.engine: Engine = create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            self._lock: threading.Lock | None = threading.Lock()
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5)
            self._lock = None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        lock = self._lock
        if lock is not None:
            lock.acquire()
        try:
            with self.engine.begin() as connection:
                yield connection
        except DatabaseError:
            raise
        except Exception as exc:  # any driver error means: the database is not usable
            raise DatabaseError(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        finally:
            if lock is not None:
                lock.release()

    def prepare(self) -> None:
        """Create the table if missing and seed a few tickets into an empty one."""
        with self._connection() as db:
            metadata.create_all(db)
            if db.execute(select(func.count()).select_from(tickets)).scalar_one() == 0:
                now = _now()
                db.execute(
                    insert(tickets),
                    [
                        {"title": t, "status": "open", "created_at": now, "updated_at": now}
                        for t in SEED_TITLES
                    ],
                )

    def ping(self) -> float:
        """Milliseconds for a trivial query."""
        started = time.perf_counter()
        with self._connection() as db:
            db.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000.0

    def list(self) -> list[dict[str, Any]]:
        with self._connection() as db:
            rows = db.execute(select(tickets).order_by(tickets.c.id)).mappings()
            return [dict(r) for r in rows]

    def get(self, ticket_id: int) -> dict[str, Any] | None:
        with self._connection() as db:
            row = db.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
            return dict(row) if row else None

    def create(self, title: str, status: str) -> dict[str, Any]:
        now = _now()
        with self._connection() as db:
            result = db.execute(
                insert(tickets).values(title=title, status=status, created_at=now, updated_at=now)
            )
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        created = self.get(new_id)
        assert created is not None
        return created

    def update(self, ticket_id: int, changes: dict[str, str]) -> dict[str, Any] | None:
        with self._connection() as db:
            result = db.execute(
                update(tickets)
                .where(tickets.c.id == ticket_id)
                .values(**changes, updated_at=_now())
            )
            if result.rowcount == 0:
                return None
        return self.get(ticket_id)

    def delete(self, ticket_id: int) -> bool:
        with self._connection() as db:
            return bool(db.execute(delete(tickets).where(tickets.c.id == ticket_id)).rowcount)

    def counts(self) -> dict[str, int]:
        with self._connection() as db:
            rows = db.execute(select(tickets.c.status, func.count()).group_by(tickets.c.status))
            found = {status: int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def close(self) -> None:
        self.engine.dispose()
