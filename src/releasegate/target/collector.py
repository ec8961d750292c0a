"""The service's own error tracker and analytics collector, on its own origin, so a page's
beacons never leave the machine: `static/telemetry.js` posts an envelope (Sentry's format) for
each session and uncaught error, and a page-view event (Plausible's), and this records them.

- `POST /collect/api/{project}/envelope/`: a Sentry envelope (newline-separated JSON: a header,
  then item header and payload pairs); answers 200 `{"id": event_id}`.
- `POST /collect/api/event`: a Plausible event (`{"name", "url", "domain"}`); answers 202.
- `GET /_admin/collected` (admin token): `{"received": [...]}`, oldest first, at most
  `MAX_KEPT`; `DELETE` forgets them.

Not under /api: a page reports for visitors who are not signed in, and its telemetry is not the
API the faults, the rate limit and the OpenAPI document are about. What is kept is bounded in
count and size (anyone may post here).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from releasegate.target.auth import admin_refusal
from releasegate.target.middleware import json_error

ENVELOPE_ROUTE = "/collect/api/{project}/envelope/"
EVENT_PATH = "/collect/api/event"
MAX_KEPT = 500
MAX_BODY_BYTES = 64 * 1024
# what is kept of a text field sent by a browser (a message, a URL)
_MAX_TEXT = 500


@dataclass(frozen=True)
class Received:
    """One envelope item or event, as the collector understood it."""

    kind: str  # "session", "event" (an error), ... for envelopes; "pageview" etc. for events
    endpoint: str  # "envelope" or "event"
    received_at: str
    message: str = ""  # an error's type and value, or the page's URL
    url: str = ""


@dataclass
class Collected:
    """What the collector received, newest last."""

    received: deque[Received] = field(default_factory=lambda: deque(maxlen=MAX_KEPT))


COLLECTED = web.AppKey("releasegate_collected", Collected)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _text(value: object) -> str:
    return str(value)[:_MAX_TEXT] if value is not None else ""


def _error_message(payload: dict[str, Any]) -> str:
    values = (payload.get("exception") or {}).get("values") or []
    if values and isinstance(values[0], dict):
        first = values[0]
        return _text(f"{first.get('type', 'Error')}: {first.get('value', '')}")
    return _text(payload.get("message", ""))


def parse_envelope(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(item type, payload) of each item of a Sentry envelope; ValueError if it is not one."""
    lines = body.split("\n")
    if not lines or not isinstance(json.loads(lines[0]), dict):
        raise ValueError("the first line must be the envelope's JSON header")
    items: list[tuple[str, dict[str, Any]]] = []
    rest = [line for line in lines[1:] if line.strip()]
    for header_line, payload_line in zip(rest[0::2], rest[1::2], strict=False):
        header, payload = json.loads(header_line), json.loads(payload_line)
        if not isinstance(header, dict) or not isinstance(payload, dict):
            raise ValueError("each item is a JSON header line and a JSON payload line")
        items.append((_text(header.get("type", "unknown")), payload))
    if not items:
        raise ValueError("the envelope has no item")
    return items


async def _body(request: web.Request) -> str | None:
    data = await request.content.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        return None
    return data.decode("utf-8", errors="replace")


async def receive_envelope(request: web.Request) -> web.Response:
    """POST /collect/api/{project}/envelope/: record each item (a session, an error)."""
    body = await _body(request)
    if body is None:
        return json_error(413, f"an envelope is at most {MAX_BODY_BYTES} bytes")
    try:
        items = parse_envelope(body)
        event_id = _text(json.loads(body.split("\n", 1)[0]).get("event_id", ""))
    except ValueError as exc:
        return json_error(400, f"not a Sentry envelope: {exc}")
    collected = request.app[COLLECTED]
    for kind, payload in items:
        url = _text((payload.get("request") or {}).get("url", ""))
        message = _error_message(payload) if kind == "event" else _text(payload.get("status"))
        collected.received.append(Received(kind, "envelope", _now(), message, url))
    return web.json_response({"id": event_id})


async def receive_event(request: web.Request) -> web.Response:
    """POST /collect/api/event: record a page view (or another named event)."""
    body = await _body(request)
    if body is None:
        return json_error(413, f"an event is at most {MAX_BODY_BYTES} bytes")
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not event.get("name") or not event.get("url"):
        return json_error(400, 'an event is JSON such as {"name": "pageview", "url": "..."}')
    url = _text(event["url"])
    request.app[COLLECTED].received.append(
        Received(_text(event["name"]), "event", _now(), url, url)
    )
    return web.Response(status=202, text="ok")


async def list_collected(request: web.Request) -> web.Response:
    """GET /_admin/collected: what was received, oldest first (admin token only)."""
    if (refusal := admin_refusal(request)) is not None:
        return json_error(*refusal)
    received = [asdict(item) for item in request.app[COLLECTED].received]
    return web.json_response({"received": received})


async def clear_collected(request: web.Request) -> web.Response:
    """DELETE /_admin/collected: forget what was received (admin token only)."""
    if (refusal := admin_refusal(request)) is not None:
        return json_error(*refusal)
    request.app[COLLECTED].received.clear()
    return web.json_response({"received": []})


def add_routes(app: web.Application) -> None:
    """Register the collector's endpoints and its store on `app`."""
    app[COLLECTED] = Collected()
    app.router.add_post(ENVELOPE_ROUTE, receive_envelope)
    app.router.add_post(EVENT_PATH, receive_event)
    app.router.add_get("/_admin/collected", list_collected)
    app.router.add_delete("/_admin/collected", clear_collected)
