"""The aiohttp application: routes, middlewares (metrics, headers, rate limit, faults), admin."""

from __future__ import annotations

import asyncio
import hmac
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from releasegate.target import pages
from releasegate.target.database import STATUSES, DatabaseError, TicketStore
from releasegate.target.faults import FaultError, FaultSet, parse_faults
from releasegate.target.ratelimit import RateLimiter
from releasegate.target.settings import ServiceSettings

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "rg_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none';"
    " frame-ancestors 'none'; base-uri 'self'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
HEALTH_ORDER = {"healthy": 0, "degraded": 1, "down": 2}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class State:
    """Everything the handlers share. `faults` is replaced whole when faults change."""

    settings: ServiceSettings
    store: TicketStore
    faults: FaultSet
    limiter: RateLimiter
    random: random.Random
    started_at: str
    refuse: Callable[[float], None] = lambda seconds: None
    sessions: set[str] = field(default_factory=set)
    cache: dict[str, str] = field(default_factory=dict)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.rate_limited = Counter(
            "http_rate_limited_total", "Requests answered 429", ["route"], registry=self.registry
        )


STATE = web.AppKey("state", State)


def _state(request: web.Request) -> State:
    return request.app[STATE]


def _route(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


def _json(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.json_response(data, status=status, headers=headers or None)


def _is_page(request: web.Request) -> bool:
    return request.method == "GET" and _route(request) in ("/", "/login", "/dashboard", "/tickets")


def _exempt(path: str) -> bool:
    """Paths faults never touch, so the metrics can be read and faults switched off."""
    return path.startswith(("/_admin", "/metrics", "/static"))


# --- middlewares, outermost first ------------------------------------------------------------


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = _state(request)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        labels = (_route(request), request.method, str(status))
        state.requests.labels(*labels).inc()
        state.latency.labels(*labels).observe(time.perf_counter() - started)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    dropped = _state(request).faults.drop_headers
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in dropped:
            response.headers[name] = value
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = _state(request)
    if request.path.startswith("/api/"):
        allowed, wait_s = state.limiter.allow(request.remote or "unknown")
        if not allowed:
            state.rate_limited.labels(_route(request)).inc()
            return _json(
                {"error": "rate limit exceeded"},
                429,
                **{"Retry-After": RateLimiter.retry_after_header(wait_s)},
            )
    return await handler(request)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = _state(request)
    faults = state.faults
    if _exempt(request.path):
        return await handler(request)
    is_api = request.path.startswith("/api/")
    if faults.latency and (is_api or _is_page(request)):
        low, high = faults.latency
        await asyncio.sleep(state.random.uniform(low, high))
    if faults.slow_page and _is_page(request):
        await asyncio.sleep(faults.slow_page)
    if is_api and faults.error_ratio and state.random.random() < faults.error_ratio:
        return _json({"error": "injected fault: error-ratio"}, 500)
    return await handler(request)


# --- auth ------------------------------------------------------------------------------------


def _signed_in(request: web.Request) -> bool:
    return request.cookies.get(SESSION_COOKIE, "") in _state(request).sessions


def _authorised(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    expected = _state(request).settings.api_token
    if token and hmac.compare_digest(token.encode(), expected.encode()):
        return True
    return _signed_in(request)


def _require_auth(request: web.Request) -> web.Response | None:
    if _authorised(request):
        return None
    return _json({"error": "authentication required: Authorization: Bearer <token>"}, 401)


async def _db(request: web.Request, call: Callable[..., Any], *args: Any) -> Any:
    """Run a database call off the event loop; `db-down` makes every call fail."""
    if _state(request).faults.db_down:
        raise DatabaseError("injected fault: db-down")
    return await asyncio.to_thread(call, *args)


def _db_unavailable(exc: DatabaseError) -> web.Response:
    return _json({"error": f"database unavailable: {exc}"}, 503)


# --- API -------------------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    faults = state.faults
    services: dict[str, dict[str, Any]] = {}
    try:
        latency = await _db(request, state.store.ping)
        services["database"] = {"status": "healthy", "latency_ms": round(latency, 3)}
    except DatabaseError as exc:
        services["database"] = {"status": "down", "latency_ms": None, "error": str(exc)}
    started = time.perf_counter()
    state.cache["health-probe"] = state.started_at
    cache_ok = state.cache.get("health-probe") == state.started_at
    services["cache"] = {
        "status": "healthy" if cache_ok else "down",
        "latency_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    services["email"] = {"status": "healthy", "latency_ms": 0.0}
    for name in faults.degraded:
        if services[name]["status"] == "healthy":
            services[name]["status"] = "degraded"
    overall = max((s["status"] for s in services.values()), key=HEALTH_ORDER.__getitem__)
    if faults.health_down:
        overall = "down"
    body = {
        "status": overall,
        "services": services,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return _json(body, 503 if overall == "down" else 200)


async def version(request: web.Request) -> web.Response:
    state = _state(request)
    return _json(
        {
            "version": state.faults.version or state.settings.version,
            "commit": "reference",
            "started_at": state.started_at,
        }
    )


async def _ticket_input(request: web.Request, *, partial: bool) -> dict[str, str] | web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json({"error": "body must be JSON"}, 422)
    if not isinstance(body, dict):
        return _json({"error": "body must be a JSON object"}, 422)
    changes: dict[str, str] = {}
    title = body.get("title")
    if title is not None or not partial:
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            return _json(
                {"error": "title must be a non-empty string of at most 200 characters"}, 422
            )
        changes["title"] = title.strip()
    status = body.get("status")
    if status is not None:
        if status not in STATUSES:
            return _json({"error": f"status must be one of {', '.join(STATUSES)}"}, 422)
        changes["status"] = status
    elif not partial:
        changes["status"] = "open"
    if partial and not changes:
        return _json({"error": "nothing to change: give title and/or status"}, 422)
    return changes


def _ticket_id(request: web.Request) -> int | None:
    try:
        return int(request.match_info["id"])
    except ValueError:
        return None


async def list_tickets(request: web.Request) -> web.Response:
    if (denied := _require_auth(request)) is not None:
        return denied
    try:
        return _json({"tickets": await _db(request, _state(request).store.list)})
    except DatabaseError as exc:
        return _db_unavailable(exc)


async def create_ticket(request: web.Request) -> web.Response:
    if (denied := _require_auth(request)) is not None:
        return denied
    changes = await _ticket_input(request, partial=False)
    if isinstance(changes, web.Response):
        return changes
    try:
        ticket = await _db(
            request, _state(request).store.create, changes["title"], changes["status"]
        )
    except DatabaseError as exc:
        return _db_unavailable(exc)
    return _json(ticket, 201)


async def one_ticket(request: web.Request) -> web.Response:
    if (denied := _require_auth(request)) is not None:
        return denied
    ticket_id = _ticket_id(request)
    if ticket_id is None:
        return _json({"error": "ticket id must be a number"}, 404)
    store = _state(request).store
    try:
        if request.method == "GET":
            found = await _db(request, store.get, ticket_id)
        elif request.method == "DELETE":
            if await _db(request, store.delete, ticket_id):
                return web.Response(status=204)
            found = None
        else:
            changes = await _ticket_input(request, partial=request.method == "PATCH")
            if isinstance(changes, web.Response):
                return changes
            found = await _db(request, store.update, ticket_id, changes)
    except DatabaseError as exc:
        return _db_unavailable(exc)
    if found is None:
        return _json({"error": f"no ticket {ticket_id}"}, 404)
    return _json(found)


# --- pages -----------------------------------------------------------------------------------


def _page(request: web.Request, title: str, body: str, status: int = 200) -> web.Response:
    html = pages.layout(
        title, body, signed_in=_signed_in(request), js_error=_state(request).faults.js_error
    )
    return web.Response(text=html, status=status, content_type="text/html")


async def home_page(request: web.Request) -> web.Response:
    return _page(request, "Home", pages.home())


async def dashboard_page(request: web.Request) -> web.Response:
    try:
        counts = await _db(request, _state(request).store.counts)
    except DatabaseError as exc:
        return _page(request, "Dashboard", f"<h1>Dashboard</h1><p>Unavailable: {exc}</p>", 503)
    return _page(request, "Dashboard", pages.dashboard(counts))


async def tickets_html(request: web.Request) -> web.Response:
    try:
        rows = await _db(request, _state(request).store.list)
    except DatabaseError as exc:
        return _page(request, "Tickets", f"<h1>Tickets</h1><p>Unavailable: {exc}</p>", 503)
    return _page(request, "Tickets", pages.tickets_page(rows, signed_in=_signed_in(request)))


async def login_form(request: web.Request) -> web.Response:
    return _page(request, "Sign in", pages.login())


async def login_submit(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    form = await request.post()
    user, password = str(form.get("username", "")), str(form.get("password", ""))
    good_user = hmac.compare_digest(user.encode(), state.settings.demo_user.encode())
    good_password = hmac.compare_digest(password.encode(), state.settings.demo_password.encode())
    if not (good_user and good_password):
        return _page(request, "Sign in", pages.login("Wrong user or password."), 401)
    session = secrets.token_urlsafe(24)
    state.sessions.add(session)
    response = web.HTTPSeeOther("/dashboard")
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax", path="/")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    _state(request).sessions.discard(request.cookies.get(SESSION_COOKIE, ""))
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


# --- metrics and admin -----------------------------------------------------------------------


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(_state(request).registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _admin_denied(request: web.Request) -> web.Response | None:
    expected = _state(request).settings.admin_token
    if not expected:
        return _json({"error": "admin endpoint disabled: set RELEASEGATE_ADMIN_TOKEN"}, 403)
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _json({"error": "admin token required: Authorization: Bearer <token>"}, 401)
    if not hmac.compare_digest(header.removeprefix("Bearer ").encode(), expected.encode()):
        return _json({"error": "wrong admin token"}, 403)
    return None


async def admin_faults(request: web.Request) -> web.Response:
    if (denied := _admin_denied(request)) is not None:
        return denied
    state = _state(request)
    if request.method == "POST":
        try:
            body = await request.json()
            items = body["faults"] if isinstance(body, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise FaultError('body must be {"faults": ["name=value", ...]}')
            state.faults = parse_faults(items)
        except (FaultError, json.JSONDecodeError, KeyError) as exc:
            message = str(exc) if isinstance(exc, FaultError) else 'body must be {"faults": [...]}'
            return _json({"error": message}, 400)
        if state.faults.refuse_for:
            # answer first, then close the listener
            seconds = state.faults.refuse_for
            state.faults = _without_refusal(state.faults)
            asyncio.get_running_loop().call_later(0.05, state.refuse, seconds)
    elif request.method == "DELETE":
        state.faults = FaultSet()
    return _json({"faults": state.faults.describe()})


def _without_refusal(faults: FaultSet) -> FaultSet:
    """A refusal is an event, not a state: once started it is not listed as active."""
    return parse_faults(f for f in faults.describe() if not f.startswith("refuse-for="))


def create_app(settings: ServiceSettings, store: TicketStore | None = None) -> web.Application:
    """The application; `store` defaults to one on `settings.database_url` (prepared here)."""
    if store is None:
        store = TicketStore(settings.database_url)
        store.prepare()
    app = web.Application(
        middlewares=[
            metrics_middleware,
            headers_middleware,
            rate_limit_middleware,
            fault_middleware,
        ]
    )
    app[STATE] = State(
        settings=settings,
        store=store,
        faults=_without_refusal(settings.faults),
        limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        random=random.Random(settings.seed),  # noqa: S311 - fault injection, not security
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    app.router.add_get("/", home_page)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/tickets", tickets_html)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/version", version)
    app.router.add_get("/api/tickets", list_tickets)
    app.router.add_post("/api/tickets", create_ticket)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        app.router.add_route(method, "/api/tickets/{id}", one_ticket)
    app.router.add_get("/metrics", metrics)
    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, "/_admin/faults", admin_faults)
    app.router.add_static("/static", STATIC)
    app.on_cleanup.append(_close_store)
    return app


async def _close_store(app: web.Application) -> None:
    await asyncio.to_thread(app[STATE].store.close)
