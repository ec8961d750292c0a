"""Live updates: a WebSocket at /api/live and server-sent events at /api/events, both behind the
API's auth, broadcasting `{"type": "ticket.created", "ticket": {...}}` (updated, deleted) as
tickets change.

Every open connection has a bounded queue of its own; a client too slow to keep up loses
messages rather than growing the service's memory. Under the `realtime=off` fault the channels
still connect (and the WebSocket still says welcome) but nothing is broadcast. On shutdown every
channel is ended first (WebSockets with 1001 going away, streams at an event boundary), so a
graceful restart never waits out its grace period for them. Neither endpoint is in the OpenAPI
document: an endless stream would hang a contract check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from releasegate.target.state import state_of

# messages waiting for one slow client before the newest are dropped
QUEUE_SIZE = 100
# a comment line on an idle event stream, so a client that went away is noticed
KEEPALIVE_S = 5.0
_END = None


class LiveChannels:
    """The open live-update connections of one app."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()
        self.closing = False

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        if self.closing:
            queue.put_nowait(_END)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._queues.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(text)

    def close(self) -> None:
        """End every channel (and any opened from now on)."""
        self.closing = True
        for queue in self._queues:
            while queue.full():  # the end must get through
                queue.get_nowait()
            queue.put_nowait(_END)

    @property
    def open(self) -> int:
        return len(self._queues)


LIVE = web.AppKey("releasegate_target_live", LiveChannels)


def broadcast(request: web.Request, kind: str, ticket: dict[str, Any]) -> None:
    """Tell every open channel that a ticket changed (`kind`: created, updated, deleted); nothing
    under the `realtime=off` fault."""
    channels = request.app.get(LIVE)
    if channels is None or state_of(request).faults.realtime_off:
        return
    channels.publish({"type": f"ticket.{kind}", "ticket": ticket})


async def _read_until_closed(ws: web.WebSocketResponse) -> None:
    # Messages from the client are not needed; reading handles its pings and its close frame.
    async for message in ws:
        if message.type is WSMsgType.ERROR:
            return


async def live_socket(request: web.Request) -> web.WebSocketResponse:
    """GET /api/live: a WebSocket; a `{"type": "welcome"}` first, then every broadcast."""
    channels = request.app[LIVE]
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    queue = channels.subscribe()
    reader = asyncio.create_task(_read_until_closed(ws))
    try:
        await ws.send_json({"type": "welcome"})
        while not ws.closed:
            getting = asyncio.ensure_future(queue.get())
            await asyncio.wait({getting, reader}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                break  # the client closed
            text = getting.result()
            if text is _END:
                break
            await ws.send_str(text)
    except ConnectionError:
        pass  # the client went away mid-send
    finally:
        channels.unsubscribe(queue)
        code = WSCloseCode.GOING_AWAY if channels.closing else WSCloseCode.OK
        await ws.close(code=code)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return ws


async def live_events(request: web.Request) -> web.StreamResponse:
    """GET /api/events: server-sent events, one `event: ticket.created` (...) per broadcast."""
    channels = request.app[LIVE]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue = channels.subscribe()
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                text = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if text is _END:
                break
            kind = json.loads(text).get("type", "message")
            await response.write(f"event: {kind}\ndata: {text}\n\n".encode())
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away
    finally:
        channels.unsubscribe(queue)
    return response


async def _end_channels(app: web.Application) -> None:
    app[LIVE].close()


def add_routes(app: web.Application) -> None:
    """Register the live-update channels on `app`, and end them when it shuts down."""
    app[LIVE] = LiveChannels()
    app.router.add_get("/api/live", live_socket)
    app.router.add_get("/api/events", live_events)
    app.on_shutdown.append(_end_channels)
