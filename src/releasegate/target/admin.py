"""/_admin/faults: list, replace or clear the active faults at run time (admin token only)."""

from __future__ import annotations

from aiohttp import web

from releasegate.target.auth import admin_refusal
from releasegate.target.faults import FaultError, FaultSet, parse_faults
from releasegate.target.middleware import json_error
from releasegate.target.state import State, state_of

_BODY_SHAPE = 'the body must be JSON such as {"faults": ["latency=300ms", "db-down"]}'


def _listing(state: State) -> web.Response:
    return web.json_response({"faults": state.faults.describe()})


async def list_faults(request: web.Request) -> web.Response:
    """GET /_admin/faults: `{"faults": [canonical texts]}`."""
    if (refusal := admin_refusal(request)) is not None:
        return json_error(*refusal)
    return _listing(state_of(request))


async def replace_faults(request: web.Request) -> web.StreamResponse:
    """POST /_admin/faults `{"faults": [...]}`: these faults and no others; 400 on a bad one,
    changing nothing. `refuse-for` is answered first, then the listener closes."""
    if (refusal := admin_refusal(request)) is not None:
        return json_error(*refusal)
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, _BODY_SHAPE)
    items = body.get("faults") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return json_error(400, _BODY_SHAPE)
    try:
        faults = parse_faults(items)
    except FaultError as exc:
        return json_error(400, str(exc))
    state = state_of(request)
    state.faults = faults.without_refusal()
    if not faults.refuse_for:
        return _listing(state)
    response = web.json_response(
        {"faults": state.faults.describe(), "refusing_connections_for_s": faults.refuse_for}
    )
    # The answer goes out completely before the listener and the connections close.
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    state.refuse(faults.refuse_for)
    return response


async def clear_faults(request: web.Request) -> web.Response:
    """DELETE /_admin/faults: a healthy service again."""
    if (refusal := admin_refusal(request)) is not None:
        return json_error(*refusal)
    state = state_of(request)
    state.faults = FaultSet()
    return _listing(state)


def add_routes(app: web.Application) -> None:
    """Register /_admin/faults on `app`."""
    app.router.add_get("/_admin/faults", list_faults)
    app.router.add_post("/_admin/faults", replace_faults)
    app.router.add_delete("/_admin/faults", clear_faults)
