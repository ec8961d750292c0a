"""The HTML pages: home, sign-in and sign-out, dashboard, tickets."""

from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web

from releasegate.target import templates
from releasegate.target.auth import (
    SESSION_COOKIE,
    end_session,
    same_secret,
    signed_in,
    start_session,
)
from releasegate.target.disclosure import SIGN_IN_STATE_COOKIE, cookie_flags
from releasegate.target.state import state_of
from releasegate.target.tickets_store import DatabaseError

STATIC = Path(__file__).parent / "static"


def _page(request: web.Request, title: str, body: str, status: int = 200) -> web.Response:
    faults = state_of(request).faults
    html = templates.layout(
        title,
        body,
        signed_in=signed_in(request),
        js_error=faults.js_error,
        beacon=not faults.beacon_off,
    )
    return web.Response(text=html, status=status, content_type="text/html")


def _see_other(location: str) -> web.Response:
    # a plain 303 response: returning aiohttp's HTTPSeeOther exception is deprecated
    return web.Response(status=303, headers={"Location": location})


async def home_page(request: web.Request) -> web.Response:
    """GET /: what this is, and links."""
    return _page(request, "Home", templates.home())


async def login_form(request: web.Request) -> web.Response:
    """GET /login: the sign-in form, and a sign-in state cookie flagged as the session's."""
    response = _page(request, "Sign in", templates.login())
    state = secrets.token_urlsafe(16)
    response.set_cookie(SIGN_IN_STATE_COOKIE, state, path="/login", **cookie_flags(request))
    return response


async def login_submit(request: web.Request) -> web.Response:
    """POST /login: the demo user and password start a session (an HttpOnly cookie) and go
    to the dashboard; anything else shows the form again with an error and 401."""
    settings = state_of(request).settings
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    # both compared, always: the time taken does not say which one was wrong
    good_user = same_secret(username, settings.demo_user)
    good_password = same_secret(password, settings.demo_password)
    if not (good_user and good_password):
        body = templates.login("Wrong user or password.", username=username)
        return _page(request, "Sign in", body, status=401)
    response = _see_other("/dashboard")
    # HttpOnly; `Secure` over https only (on plain http on loopback a Secure cookie would not
    # come back). SameSite=Lax keeps it off cross-site POSTs (the API's CSRF guard).
    response.set_cookie(SESSION_COOKIE, start_session(request), path="/", **cookie_flags(request))
    return response


async def logout(request: web.Request) -> web.Response:
    """GET or POST /logout: end the session, back to the home page."""
    end_session(request)
    response = _see_other("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def dashboard_page(request: web.Request) -> web.Response:
    """GET /dashboard: ticket counts by status, read from the database for each request."""
    state = state_of(request)
    try:
        counts = await state.db(state.store.counts)
    except DatabaseError as exc:
        return _page(request, "Dashboard", templates.unavailable("Dashboard", str(exc)), 503)
    return _page(request, "Dashboard", templates.dashboard(counts))


async def tickets_page(request: web.Request) -> web.Response:
    """GET /tickets: every ticket, and the form that creates one through the API."""
    state = state_of(request)
    try:
        rows = await state.db(state.store.all)
    except DatabaseError as exc:
        return _page(request, "Tickets", templates.unavailable("Tickets", str(exc)), 503)
    return _page(request, "Tickets", templates.tickets(rows, signed_in=signed_in(request)))


async def favicon(request: web.Request) -> web.FileResponse:
    """GET /favicon.ico: browsers ask for it; a 404 would be a console error on every page."""
    return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


def add_routes(app: web.Application) -> None:
    """Register the pages and /static on `app`."""
    app.router.add_get("/", home_page)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_submit)
    app.router.add_get("/logout", logout)
    app.router.add_post("/logout", logout)
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/tickets", tickets_page)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static", STATIC)
    app.on_response_prepare.append(_cache_static)


# Static files change only with a release: browsers and CDNs may keep them for an hour, which the
# post-deploy cache check looks for (`[cache] paths`).
STATIC_CACHE_CONTROL = "public, max-age=3600"


async def _cache_static(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/static/") and response.status == 200:
        response.headers["Cache-Control"] = STATIC_CACHE_CONTROL
