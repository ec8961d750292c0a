"""The request pipeline, outermost first: metrics (and the access log), errors, rate limit,
faults, API auth.

Metrics are outermost so that what /metrics reports is what clients saw, injected delays and
429s included. Faults come before auth: a broken service fails callers whatever they send.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from releasegate.target.auth import api_authorised
from releasegate.target.disclosure import exposure_middleware
from releasegate.target.ratelimit import retry_after
from releasegate.target.security import SECURITY_HEADERS
from releasegate.target.service_log import ACCESS
from releasegate.target.state import state_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGE_ROUTES = frozenset({"/", "/login", "/logout", "/dashboard", "/tickets"})
PUBLIC_API_PATHS = frozenset({"/api/health", "/api/version"})
# Never touched by faults, so the service can always be observed and healed.
FAULT_EXEMPT_PREFIXES = ("/_admin", "/metrics", "/openapi.json", "/static/", "/favicon.ico")
# Any other method is counted as OTHER, so odd clients cannot grow the label set.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A client that hangs up before its answer: nginx's convention.
CLIENT_CLOSED = 499

log = logging.getLogger("releasegate.target")


def route_of(request: web.Request) -> str:
    """The route template (`/api/tickets/{id}`), or `unmatched` for paths no route serves."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def is_api(request: web.Request) -> bool:
    """Whether the request is for the JSON API."""
    return request.path.startswith("/api/")


def is_page(request: web.Request) -> bool:
    """Whether the request is for one of the HTML pages."""
    return route_of(request) in PAGE_ROUTES


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The API's error answer: `{"error": message}`."""
    return web.json_response({"error": message}, status=status, headers=headers)


def _reason(response: web.StreamResponse | None) -> str:
    """The `error` of a JSON error answer, or nothing."""
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes) or not body.startswith(b'{"error"'):
        return ""
    try:
        error = json.loads(body).get("error")
    except ValueError:
        return ""
    return f": {error}" if isinstance(error, str) else ""


def _access_line(
    method: str, route: str, status: int, seconds: float, response: web.StreamResponse | None
) -> None:
    # The route template, not the path: a client's path could hold any word a log check looks
    # for. A 5xx answer is an ERROR line with the reason the answer gave.
    if status >= 500:
        reason = _reason(response)
        ACCESS.error("%s %s %d %.1fms%s", method, route, status, seconds * 1000.0, reason)
    elif ACCESS.isEnabledFor(logging.INFO):  # no log file: not even formatted
        ACCESS.info("%s %s %d %.1fms", method, route, status, seconds * 1000.0)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every answer by route template, method and status, with its latency; one line in
    the log file for it."""
    started = time.perf_counter()
    status = 500
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        elapsed = time.perf_counter() - started
        route = route_of(request)
        state_of(request).metrics.observe(route, method, status, elapsed)
        _access_line(method, route, status, elapsed, response)


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    headers = {
        k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")
    }
    if exc.status >= 400 and (is_api(request) or request.path.startswith("/_admin")):
        return json_error(exc.status, f"{exc.reason}: {request.method} {request.path}", headers)
    return web.Response(status=exc.status, text=exc.text or exc.reason, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn raised HTTP errors (404, 405, 413, ...) and crashes into ordinary answers: JSON on
    the API, text elsewhere; so they are counted and carry the security headers like any other."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return _from_http_exception(request, exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error answering %s %s", request.method, request.path)
        if is_api(request):
            return json_error(500, "internal server error")
        return web.Response(status=500, text="500: internal server error")


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """/api/* is limited per client address; over the limit: 429 with Retry-After."""
    if not is_api(request):
        return await handler(request)
    state = state_of(request)
    allowed, wait_s = state.limiter.allow(request.remote or "unknown")
    if allowed:
        return await handler(request)
    state.metrics.rate_limited.labels(route_of(request)).inc()
    return json_error(429, "rate limit exceeded", {"Retry-After": retry_after(wait_s)})


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the active latency, slow-page and error-ratio faults."""
    if request.path.startswith(FAULT_EXEMPT_PREFIXES):
        return await handler(request)
    state = state_of(request)
    faults = state.faults  # one snapshot: a change mid-request applies to the next one
    api, page = is_api(request), is_page(request)
    delay = 0.0
    if faults.latency is not None and (api or page):
        delay += state.random.uniform(*faults.latency)
    if faults.slow_page and page:
        delay += faults.slow_page
    if delay:
        await asyncio.sleep(delay)
    if api and faults.error_ratio and state.random.random() < faults.error_ratio:
        return json_error(500, "internal server error (error-ratio fault)")
    return await handler(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /api path but health and version needs the API token or a session."""
    if is_api(request) and request.path not in PUBLIC_API_PATHS and not api_authorised(request):
        return json_error(
            401, "authentication required: send Authorization: Bearer <token> or sign in"
        )
    return await handler(request)


MIDDLEWARES: tuple[Middleware, ...] = (
    metrics_middleware,
    error_middleware,
    rate_limit_middleware,
    fault_middleware,
    exposure_middleware,  # expose=PATH, before auth: a leaked file needs no token
    auth_middleware,
)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response as it is prepared (those prepared early by a handler too), minus the
    ones a `drop-header` fault takes away."""
    faults = state_of(request).faults
    for name, value in SECURITY_HEADERS.items():
        if not faults.drops(name):
            response.headers[name] = value
