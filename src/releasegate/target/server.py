"""Serving the app until SIGINT/SIGTERM, on a listener that the `refuse-for` fault can close.

`refuse-for` closes the listening socket (the kernel then refuses new connections), closes the
open keep-alive connections too (so a client reusing one notices as well), waits, and listens
again on the same port: what a restarting process looks like from outside.

Under `serve --supervise` the worker serves on sockets its supervisor bound and keeps open
(supervisor.py), so that the next worker can take over without a moment of refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Sequence

from aiohttp import web

from releasegate.target.app import create_app
from releasegate.target.settings import ServiceSettings
from releasegate.target.state import STATE

# On shutdown or refusal, in-flight requests get about this long to finish before they are
# cancelled (aiohttp waits this long for them, then as long again for the cancellation).
GRACE_S = 2.0
# The port may be taken by someone else while we refuse: retry re-opening for this long.
REOPEN_RETRY_S = 10.0
PARENT_CHECK_S = 1.0
# A worker handing over to the next one stops accepting first, then waits this long before
# closing idle connections: a connection it accepted a moment earlier has sent no request yet,
# would count as idle, and would be closed unanswered.
HANDOVER_DRAIN_S = 0.5

log = logging.getLogger("releasegate.target")


def service_url(host: str, port: int) -> str:
    """`http://HOST:PORT`, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Listener:
    """The TCP site of a runner: closable, and re-openable on the same port.

    With `sockets` (inherited from a supervisor) it serves on those instead of binding, and they
    stay open in the supervisor whatever this worker does."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        sockets: Sequence[socket.socket] = (),
    ) -> None:
        self.runner = runner
        self.host = host
        self.port = port
        self.sockets = list(sockets)
        self._sites: list[web.BaseSite] = []
        self._reopen_at = 0.0
        self._refusal: asyncio.Task[None] | None = None
        self.failure: OSError | None = None  # set when it could not listen again
        self.on_failure: Callable[[], None] = lambda: None

    @property
    def listening(self) -> bool:
        """Whether the listening socket is open."""
        return bool(self._sites)

    async def open(self) -> None:
        """Listen. With port 0 the system picks one, kept for every later re-open."""
        if self.sockets:
            await self._open_inherited()
            return
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._sites = [site]
        ports = {int(address[1]) for address in self.runner.addresses}
        if self.port == 0 and len(ports) > 1:
            # A name with several addresses (localhost: 127.0.0.1 and ::1) got one free port
            # each; listen on the first one's port everywhere so the announced URL is right.
            await self.close()
            self.port = min(ports)
            await self.open()
            return
        self.port = ports.pop() if len(ports) == 1 else self.port

    async def _open_inherited(self) -> None:
        for sock in self.sockets:
            # A duplicate, because stopping a site closes its socket and this one must stay
            # open to listen again after a refusal. Starting the site listens (again).
            site = web.SockSite(self.runner, sock.dup())
            await site.start()
            self._sites.append(site)
        self.port = int(self.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening; connections already open are left alone."""
        sites, self._sites = self._sites, []
        for site in sites:
            await site.stop()

    def refuse(self, seconds: float) -> None:
        """Refuse connections from now for `seconds`; a refusal under way is extended."""
        loop = asyncio.get_running_loop()
        self._reopen_at = max(self._reopen_at, loop.time() + seconds)
        if self._refusal is None or self._refusal.done():
            self._refusal = loop.create_task(self._refuse())

    async def _refuse(self) -> None:
        loop = asyncio.get_running_loop()
        await self.close()
        for sock in self.sockets:
            # The supervisor holds this socket too, so closing our copy would refuse nothing:
            # take it out of listening for every holder instead (Linux keeps its port bound,
            # and listen() brings it back). The connections waiting in its queue are reset.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server = self.runner.server
        if server is not None:
            # also the keep-alive connections: a client reusing one must notice the outage
            await asyncio.gather(*(c.shutdown(GRACE_S) for c in server.connections))
        while (left := self._reopen_at - loop.time()) > 0:
            await asyncio.sleep(left)
        deadline = loop.time() + REOPEN_RETRY_S
        while True:
            try:
                await self.open()
                return
            except OSError as exc:
                if loop.time() >= deadline:
                    self.failure = exc
                    log.error("cannot listen again on port %s: %s", self.port, exc)
                    self.on_failure()
                    return
                await asyncio.sleep(0.2)

    async def shutdown(self) -> None:
        """Stop any refusal (without re-opening) and stop listening."""
        if self._refusal is not None and not self._refusal.done():
            self._refusal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refusal
        await self.close()


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    # Re-parented (to init or a subreaper): the launcher died without stopping us.
    while not stop.is_set():
        if os.getppid() != parent_pid:
            log.error("the process that started the service (pid %s) is gone; stopping", parent_pid)
            stop.set()
            return
        await asyncio.sleep(PARENT_CHECK_S)


async def serve(
    settings: ServiceSettings,
    announce: Callable[[str], None],
    *,
    parent_pid: int | None = None,
    sockets: Sequence[socket.socket] = (),
) -> None:
    """Serve until SIGINT or SIGTERM (or, with `parent_pid`, until that parent is gone).

    As soon as it listens it calls `announce("listening on http://HOST:PORT")` with the real
    port; a `refuse-for` fault given at start begins after that. With `sockets` (a supervisor's
    worker) it serves on those rather than binding `settings.port`.
    """
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=GRACE_S)
    await runner.setup()
    listener = Listener(runner, settings.host, settings.port, sockets)
    stop = asyncio.Event()
    listener.on_failure = stop.set
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    watcher = None if parent_pid is None else loop.create_task(_watch_parent(parent_pid, stop))
    try:
        await listener.open()
        app[STATE].refuse = listener.refuse
        announce(f"listening on {service_url(settings.host, listener.port)}")
        if settings.faults.refuse_for:
            listener.refuse(settings.faults.refuse_for)
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        await listener.shutdown()
        if sockets:
            await asyncio.sleep(HANDOVER_DRAIN_S)
        await runner.cleanup()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if listener.failure is not None:
        raise listener.failure


def run(
    settings: ServiceSettings,
    *,
    announce: Callable[[str], None],
    parent_pid: int | None = None,
    sockets: Sequence[socket.socket] = (),
) -> None:
    """Serve (blocking) until SIGINT/SIGTERM, then shut down gracefully. See `serve`."""
    asyncio.run(serve(settings, announce, parent_pid=parent_pid, sockets=sockets))
