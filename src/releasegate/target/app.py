"""The aiohttp application of the reference service, wired from its parts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from aiohttp import web

from releasegate.target import admin, api, collector, pages
from releasegate.target.background import background
from releasegate.target.disclosure import disclosure_headers
from releasegate.target.job_queue import JobStore
from releasegate.target.live_updates import add_routes as add_live_routes
from releasegate.target.metrics import Metrics
from releasegate.target.middleware import MIDDLEWARES, add_security_headers
from releasegate.target.openapi import openapi_document
from releasegate.target.ratelimit import RateLimiter
from releasegate.target.settings import ServiceSettings
from releasegate.target.state import STATE, State, state_of
from releasegate.target.tickets_store import TicketStore


async def openapi_page(request: web.Request) -> web.Response:
    """GET /openapi.json: the API's OpenAPI document, never touched by faults."""
    return web.json_response(openapi_document(state_of(request).settings.version))


async def metrics_page(request: web.Request) -> web.Response:
    """GET /metrics: the Prometheus text format, never touched by faults."""
    metrics = state_of(request).metrics
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})


def create_app(settings: ServiceSettings, store: TicketStore | None = None) -> web.Application:
    """The application. Without `store`, one on `settings.database_url` is made and prepared
    (table created, seeded); the jobs table is created in the same database. Both block: call
    it before serving. The job worker, the digest scheduler and the log file start with the
    app (on startup) and stop with it (on cleanup)."""
    if store is None:
        store = TicketStore(settings.database_url)
        store.prepare()
    jobs = JobStore(store)
    jobs.prepare()
    app = web.Application(middlewares=MIDDLEWARES)
    app[STATE] = State(
        settings=settings,
        store=store,
        # refuse-for is an event that server.py starts once it listens, not a lasting state
        faults=settings.faults.without_refusal(),
        limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        random=random.Random(settings.seed),  # noqa: S311 - fault draws, not security
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        jobs=jobs,
        metrics=Metrics(),
    )
    pages.add_routes(app)
    api.add_routes(app)
    admin.add_routes(app)
    collector.add_routes(app)
    add_live_routes(app)  # /api/live, /api/events (not in the OpenAPI document)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/openapi.json", openapi_page)
    app.on_response_prepare.append(add_security_headers)
    app.on_response_prepare.append(disclosure_headers)  # Server, cors=reflect
    # cleanup contexts end before on_cleanup handlers run: the loops stop before the store closes
    app.cleanup_ctx.append(background)
    app.on_cleanup.append(_close_store)
    return app


async def _close_store(app: web.Application) -> None:
    await asyncio.to_thread(app[STATE].store.close)
