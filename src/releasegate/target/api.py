"""The JSON API: /api/health, /api/version (public), the tickets and /api/stats (token or
session)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from releasegate.target.health_endpoint import ServiceCheck, health_answer
from releasegate.target.job_queue import JobStore, JobTotals
from releasegate.target.live_updates import broadcast
from releasegate.target.middleware import json_error
from releasegate.target.process_memory import rss_bytes
from releasegate.target.state import State, state_of
from releasegate.target.ticket_cache import TicketCache
from releasegate.target.tickets_store import STATUSES, TITLE_MAX, DatabaseError, Ticket

# Health must answer even when the database hangs: past this, the database counts as down.
DATABASE_CHECK_TIMEOUT_S = 2.0
COMMIT = "reference"
TICKET_FIELDS = frozenset({"title", "status"})


def now_iso() -> str:
    """The current time, ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


async def _database_check(state: State) -> ServiceCheck:
    started = time.perf_counter()
    try:
        latency = await asyncio.wait_for(state.db(state.store.ping), DATABASE_CHECK_TIMEOUT_S)
    except DatabaseError as exc:
        return ServiceCheck("down", _elapsed_ms(started), str(exc))
    except TimeoutError:
        reason = f"no answer to SELECT 1 within {DATABASE_CHECK_TIMEOUT_S:g} s"
        return ServiceCheck("down", _elapsed_ms(started), reason)
    return ServiceCheck("healthy", latency)


def _cache_check(state: State) -> ServiceCheck:
    started = time.perf_counter()
    try:
        return ServiceCheck("healthy", state.check_cache())
    except ValueError as exc:
        return ServiceCheck("down", _elapsed_ms(started), str(exc))


async def health(request: web.Request) -> web.Response:
    """GET /api/health: each dependency's status and latency; the worst is the whole's."""
    state = state_of(request)
    checks = {
        "database": await _database_check(state),
        "cache": _cache_check(state),
        # a simulated mail relay: it has nothing to fail on its own, only by fault
        "email": ServiceCheck("healthy", 0.0),
    }
    faults = state.faults
    status, body = health_answer(
        checks, degraded=faults.degraded, forced_down=faults.health_down, timestamp=now_iso()
    )
    return web.json_response(body, status=status)


async def version(request: web.Request) -> web.Response:
    """GET /api/version: the version live (or the one a `version=X` fault claims)."""
    state = state_of(request)
    return web.json_response(
        {
            "version": state.faults.version or state.settings.version,
            "commit": COMMIT,
            "started_at": state.started_at,
        }
    )


class InvalidTicket(ValueError):
    """A ticket body the API refuses (422), with the reason."""


def ticket_changes(body: Any, *, partial: bool) -> dict[str, str]:
    """The validated fields of a ticket body. `partial` (PATCH): only what is given changes;
    otherwise (POST, PUT) the title is required and the status defaults to open."""
    if not isinstance(body, dict):
        raise InvalidTicket('the body must be a JSON object such as {"title": "..."}')
    unknown = sorted(set(body) - TICKET_FIELDS)
    if unknown:
        raise InvalidTicket(f"unknown field(s) {', '.join(unknown)}; a ticket has title, status")
    changes: dict[str, str] = {}
    title = body.get("title")
    if title is not None or not partial:
        if not isinstance(title, str) or not title.strip():
            raise InvalidTicket("title is required: a non-empty string")
        if len(title.strip()) > TITLE_MAX:
            raise InvalidTicket(f"title is longer than {TITLE_MAX} characters")
        changes["title"] = title.strip()
    status = body.get("status")
    if status is not None:
        if status not in STATUSES:
            raise InvalidTicket(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        changes["status"] = status
    elif not partial:
        changes["status"] = "open"
    if not changes:
        raise InvalidTicket("nothing to change: give title and/or status")
    return changes


async def _changes(request: web.Request, *, partial: bool) -> dict[str, str]:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidTicket("the body must be JSON") from None
    return ticket_changes(body, partial=partial)


def _unavailable(exc: DatabaseError) -> web.Response:
    return json_error(503, f"database unavailable: {exc}")


def _ticket_id(request: web.Request) -> int | None:
    text = request.match_info["id"]
    return int(text) if text.isascii() and text.isdigit() else None


def _ticket_answer(state: State, ticket: Ticket, status: int = 200) -> web.Response:
    """A ticket as JSON; under `contract=break` its id is a string, which the OpenAPI document
    says is an integer (a response that breaks its schema, for the contract checks)."""
    return web.json_response(_shown(state, ticket), status=status)


def _shown(state: State, ticket: Ticket) -> dict[str, Any]:
    return {**ticket, "id": str(ticket["id"]) if state.faults.contract_break else ticket["id"]}


def _no_ticket(request: web.Request) -> web.Response:
    return json_error(404, f"no ticket {request.match_info['id']!r}")


async def list_tickets(request: web.Request) -> web.Response:
    """GET /api/tickets: every ticket, read through the in-process cache (ticket_cache.py)."""
    state = state_of(request)
    try:
        tickets = await state.listed_tickets()
        return web.json_response({"tickets": [_shown(state, t) for t in tickets]})
    except DatabaseError as exc:
        return _unavailable(exc)


async def create_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets: 201 with the new ticket; 422 with the reason when invalid. Its
    `notify` job is enqueued in the same transaction."""
    state = state_of(request)
    try:
        changes = await _changes(request, partial=False)
        ticket = await state.db(
            state.store.create, changes["title"], changes["status"], JobStore.enqueue_notify
        )
    except InvalidTicket as exc:
        return json_error(422, str(exc))
    except DatabaseError as exc:
        return _unavailable(exc)
    state.ticket_cache.stored(ticket)
    state.job_enqueued_here()
    broadcast(request, "created", _shown(state, ticket))
    answer = _ticket_answer(state, ticket, status=201)
    answer.headers["Location"] = f"/api/tickets/{ticket['id']}"
    return answer


async def get_ticket(request: web.Request) -> web.Response:
    """GET /api/tickets/{id}: the ticket, or 404."""
    state = state_of(request)
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return _no_ticket(request)
    try:
        ticket = await state.db(state.store.get, ticket_id)
    except DatabaseError as exc:
        return _unavailable(exc)
    return _no_ticket(request) if ticket is None else _ticket_answer(state, ticket)


async def change_ticket(request: web.Request) -> web.Response:
    """PUT (replace) or PATCH (change some fields) /api/tickets/{id}: the ticket as stored."""
    state = state_of(request)
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return _no_ticket(request)
    try:
        changes = await _changes(request, partial=request.method == "PATCH")
        ticket = await state.db(state.store.update, ticket_id, changes)
    except InvalidTicket as exc:
        return json_error(422, str(exc))
    except DatabaseError as exc:
        return _unavailable(exc)
    if ticket is None:
        return _no_ticket(request)
    state.ticket_cache.stored(ticket)
    broadcast(request, "updated", _shown(state, ticket))
    return _ticket_answer(state, ticket)


async def delete_ticket(request: web.Request) -> web.Response:
    """DELETE /api/tickets/{id}: 204, or 404 when there was no such ticket."""
    state = state_of(request)
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return _no_ticket(request)
    try:
        deleted = await state.db(state.store.delete, ticket_id)
    except DatabaseError as exc:
        return _unavailable(exc)
    if not deleted:
        return _no_ticket(request)
    state.ticket_cache.deleted(ticket_id)
    broadcast(request, "deleted", {"id": ticket_id})
    return web.Response(status=204)


def stats_answer(cache: TicketCache, jobs: JobTotals, rss: int) -> dict[str, Any]:
    """The body of GET /api/stats."""
    return {
        "cache": {
            "requests": cache.requests,
            "hits": cache.hits,
            "misses": cache.misses,
            "hit_rate": cache.hit_rate,
        },
        "jobs": {
            "enqueued": jobs.enqueued,
            "queued": jobs.queued,
            "processed": jobs.processed,
            "failed": jobs.failed,
        },
        "process": {"rss_bytes": rss},
    }


async def stats(request: web.Request) -> web.Response:
    """GET /api/stats: the ticket cache's lookups since the service started, the job totals
    from the database (across restarts), the process's resident memory."""
    state = state_of(request)
    try:
        totals = await state.db(state.jobs.totals)
    except DatabaseError as exc:
        return _unavailable(exc)
    return web.json_response(stats_answer(state.ticket_cache, totals, rss_bytes()))


def add_routes(app: web.Application) -> None:
    """Register the API on `app`."""
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/version", version)
    app.router.add_get("/api/tickets", list_tickets)
    app.router.add_post("/api/tickets", create_ticket)
    app.router.add_get("/api/tickets/{id}", get_ticket)
    app.router.add_put("/api/tickets/{id}", change_ticket)
    app.router.add_patch("/api/tickets/{id}", change_ticket)
    app.router.add_delete("/api/tickets/{id}", delete_ticket)
    app.router.add_get("/api/stats", stats)
