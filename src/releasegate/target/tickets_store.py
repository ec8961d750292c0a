"""The tickets table on a real database through SQLAlchemy Core: SQLite or PostgreSQL by URL.

Every method is synchronous and may block on the network; the app calls them through
`asyncio.to_thread` so the event loop keeps serving while a query runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

STATUSES = ("open", "in_progress", "closed")
SEED_TITLES = ("Printer on floor 2 jams", "VPN drops every hour", "New laptop for Sam")
TITLE_MAX = 200
# PostgreSQL's integer column: a larger id cannot exist, so it is "not found", not a DB error.
ID_MAX = 2**31 - 1
# A database that does not answer must not hang the service's start or its requests for long.
CONNECT_TIMEOUT_S = 5

metadata = MetaData()
tickets = Table(
    "releasegate_tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("status", String(20), nullable=False),
    # ISO 8601 text: the same on SQLite and PostgreSQL, and what the API returns anyway
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)


class Ticket(TypedDict):
    """A ticket as the API returns it."""

    id: int
    title: str
    status: str
    created_at: str
    updated_at: str


class DatabaseError(Exception):
    """The database could not be used: down, unreachable, or it refused the query."""


class DatabaseUrlError(ValueError):
    """The database URL is not one SQLAlchemy can use (bad syntax, unknown or missing driver)."""


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparsable URL>"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ticket(row: RowMapping) -> Ticket:
    return Ticket(
        id=int(row["id"]),
        title=str(row["title"]),
        status=str(row["status"]),
        created_at=str(row["created_at"]),
        updated_at=str(row["updated_at"]),
    )


def _is_in_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _engine(url_text: str) -> tuple[Engine, threading.Lock | None]:
    try:
        url = make_url(url_text)
    except SQLAlchemyError:
        raise DatabaseUrlError(
            "is not a database URL such as sqlite://, sqlite:///path.db or"
            " postgresql+psycopg://user@host:5432/db"
        ) from None
    try:
        if _is_in_memory_sqlite(url):
            # An in-memory SQLite database lives and dies with its one connection. StaticPool
            # shares that connection with every worker thread (check_same_thread=False), and the
            # lock serialises them, since one sqlite3 connection is not safe to use concurrently.
            # A temp file would also work, but leave a file behind when the process is killed.
            engine = create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            return engine, threading.Lock()
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        engine = create_engine(
            url, pool_pre_ping=True, pool_timeout=CONNECT_TIMEOUT_S, connect_args=connect_args
        )
    except ImportError as exc:
        raise DatabaseUrlError(
            f"{safe_url(url_text)}: its driver is not installed ({exc.name or exc});"
            " for PostgreSQL: pip install 'releasegate[postgres]'"
        ) from None
    except SQLAlchemyError as exc:
        raise DatabaseUrlError(f"{safe_url(url_text)}: {exc}") from None
    return engine, None


class TicketStore:
    """The tickets kept in the database at `url` (any SQLAlchemy URL; SQLite and PostgreSQL
    are the ones tested)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine, self._lock = _engine(url)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on the database (committed when the block ends without raising);
        a failure of the database raises `DatabaseError`. The job queue shares it."""
        with self._lock or nullcontext():
            try:
                with self.engine.begin() as connection:
                    yield connection
            except SQLAlchemyError as exc:
                first_line = str(exc.orig if hasattr(exc, "orig") else exc).strip().splitlines()
                raise DatabaseError(
                    f"{type(exc).__name__}: {first_line[0] if first_line else 'no detail'}"
                ) from exc

    def prepare(self) -> None:
        """Create the table if missing and seed a few tickets into an empty one."""
        with self.transaction() as db:
            metadata.create_all(db)
            if db.execute(select(func.count()).select_from(tickets)).scalar_one() == 0:
                now = _now()
                rows = [
                    {"title": t, "status": "open", "created_at": now, "updated_at": now}
                    for t in SEED_TITLES
                ]
                db.execute(insert(tickets), rows)

    def ping(self) -> float:
        """Milliseconds a trivial query takes (it raises `DatabaseError` when it cannot)."""
        started = time.perf_counter()
        with self.transaction() as db:
            db.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000.0

    def all(self) -> list[Ticket]:
        """Every ticket, oldest first."""
        with self.transaction() as db:
            return [
                _ticket(r) for r in db.execute(select(tickets).order_by(tickets.c.id)).mappings()
            ]

    def get(self, ticket_id: int) -> Ticket | None:
        """One ticket, or None."""
        if not 0 < ticket_id <= ID_MAX:
            return None
        with self.transaction() as db:
            row = db.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
        return _ticket(row) if row is not None else None

    def create(
        self, title: str, status: str, also: Callable[[Connection, Ticket], object] | None = None
    ) -> Ticket:
        """A new ticket, as stored. `also` runs in the same transaction (the job queue enqueues
        its notification there), so the ticket and what follows from it commit together."""
        now = _now()
        values = {"title": title, "status": status, "created_at": now, "updated_at": now}
        with self.transaction() as db:
            row = db.execute(insert(tickets).values(values).returning(*tickets.c)).mappings().one()
            ticket = _ticket(row)
            if also is not None:
                also(db, ticket)
        return ticket

    def update(self, ticket_id: int, changes: dict[str, str]) -> Ticket | None:
        """The ticket with `changes` applied, or None when there is no such ticket."""
        if not 0 < ticket_id <= ID_MAX:
            return None
        statement = (
            update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(**changes, updated_at=_now())
            .returning(*tickets.c)
        )
        with self.transaction() as db:
            row = db.execute(statement).mappings().first()
        return _ticket(row) if row is not None else None

    def delete(self, ticket_id: int) -> bool:
        """Whether there was such a ticket (it is gone either way)."""
        if not 0 < ticket_id <= ID_MAX:
            return False
        with self.transaction() as db:
            deleted = db.execute(
                delete(tickets).where(tickets.c.id == ticket_id).returning(tickets.c.id)
            )
            return deleted.first() is not None

    def counts(self) -> dict[str, int]:
        """How many tickets have each status (every status listed, 0 when none)."""
        with self.transaction() as db:
            rows = db.execute(select(tickets.c.status, func.count()).group_by(tickets.c.status))
            found = {str(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in STATUSES}

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
