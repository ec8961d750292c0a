"""Who may call what: the API token or a signed-in session for /api, the admin token for /_admin.

Tokens are compared with `hmac.compare_digest`, so the time taken says nothing about how much of
a guess was right.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from aiohttp import web

from releasegate.target.settings import ADMIN_TOKEN_VAR
from releasegate.target.state import state_of

SESSION_COOKIE = "rg_session"


def same_secret(given: str, expected: str) -> bool:
    """Whether two secrets are equal, in time independent of where they differ."""
    return hmac.compare_digest(given.encode(), expected.encode())


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme in any case), or None."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def signed_in(request: web.Request) -> bool:
    """Whether the request carries the cookie of a live session."""
    session = request.cookies.get(SESSION_COOKIE)
    return session is not None and session in state_of(request).sessions


def basic_password(request: web.Request) -> str | None:
    """The password of an `Authorization: Basic base64(user:password)` header, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    _, colon, password = pair.partition(":")
    return password if colon else None


def api_authorised(request: web.Request) -> bool:
    """The API token (as a bearer token, or as the password of Basic credentials with any
    user name, as many APIs take one), or a signed-in browser."""
    token = bearer_token(request) or basic_password(request)
    if token is not None and same_secret(token, state_of(request).settings.api_token):
        return True
    return signed_in(request)


def admin_refusal(request: web.Request) -> tuple[int, str] | None:
    """(status, reason) when the request may not use /_admin, None when it may."""
    expected = state_of(request).settings.admin_token
    if not expected:
        return 403, f"admin endpoint disabled: set {ADMIN_TOKEN_VAR}"
    token = bearer_token(request)
    if token is None:
        return 401, "admin token required: Authorization: Bearer <admin token>"
    if not same_secret(token, expected):
        return 403, "wrong admin token"
    return None


def start_session(request: web.Request) -> str:
    """A new session id, remembered by the service until sign-out."""
    session = secrets.token_urlsafe(32)
    state_of(request).sessions.add(session)
    return session


def end_session(request: web.Request) -> None:
    """Forget the request's session, if any."""
    state_of(request).sessions.discard(request.cookies.get(SESSION_COOKIE, ""))
