"""What the service gives away, and the faults that make it give away more (the post-deploy
security audit finds each one): its `Server` header, files served that must not be
(`expose=PATH`), a CORS policy that lets any site read answers with the visitor's cookies
(`cors=reflect`), and cookies without their flags (`cookie-insecure`)."""

from __future__ import annotations

import platform
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from releasegate.target.state import state_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# set by GET /login: a random value tying the form to its sign-in (the service does not rely
# on it), so a passive look at the sign-in page sees how the service flags its cookies
SIGN_IN_STATE_COOKIE = "rg_auth_state"
# no product version: aiohttp's default (`Python/3.11 aiohttp/3.9.5`) tells an attacker which
# published vulnerabilities to try
SERVER = "releasegate-reference"

# realistic bodies for the files `expose=PATH` serves (made-up credentials)
EXPOSED_BODIES: dict[str, tuple[str, str]] = {
    ".git/HEAD": ("ref: refs/heads/main\n", "text/plain"),
    ".env": (
        "DATABASE_URL=postgres://app:hunter2@db/app\n"  # pragma: allowlist secret
        "SECRET_KEY=not-a-real-key-0f3c9a\n"  # pragma: allowlist secret
        "DEBUG=false\n",
        "text/plain",
    ),
    "server-status": (
        "<html><head><title>Apache Status</title></head><body>"
        "<h1>Apache Server Status for localhost</h1></body></html>\n",
        "text/html",
    ),
}
DEFAULT_EXPOSED = ("# a copy left behind by a deploy\nDEBUG = false\n", "text/plain")


def banner() -> str:
    """The `server-banner` fault's header: aiohttp's own, with the versions."""
    python = ".".join(platform.python_version_tuple()[:2])
    return f"aiohttp/{aiohttp.__version__} Python/{python}"


def exposed_file(path: str) -> tuple[str, str]:
    """The body and content type `expose=PATH` serves at `path`."""
    for suffix, answer in EXPOSED_BODIES.items():
        if path.endswith("/" + suffix):
            return answer
    return DEFAULT_EXPOSED


@web.middleware
async def exposure_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`expose=PATH`: GET or HEAD of PATH answers the file, whatever the routes say."""
    if request.method in ("GET", "HEAD") and request.path in state_of(request).faults.exposed:
        body, content_type = exposed_file(request.path)
        return web.Response(text=body, content_type=content_type)
    return await handler(request)


async def disclosure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response as it is prepared: the Server header (a version only with
    `server-banner`), and with `cors=reflect` any Origin allowed to read, with credentials."""
    faults = state_of(request).faults
    response.headers["Server"] = banner() if faults.server_banner else SERVER
    origin = request.headers.get("Origin")
    if faults.cors_reflect and origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"


def cookie_flags(request: web.Request) -> dict[str, Any]:
    """The flags of the service's cookies, as `set_cookie` keywords: HttpOnly, SameSite=Lax,
    and Secure when the request came over https (on plain http a Secure cookie would not come
    back); none of them with `cookie-insecure`."""
    if state_of(request).faults.cookie_insecure:
        return {}
    flags: dict[str, Any] = {"httponly": True, "samesite": "Lax"}
    if request.secure:
        flags["secure"] = True
    return flags
