"""Serving the app until SIGINT/SIGTERM, on a listener that the `refuse-for` fault can close.

`refuse-for` closes the listening socket (the kernel then refuses new connections), closes the
open keep-alive connections too (so a client reusing one notices as well), waits, and listens
again on the same port: what a restarting process looks like from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable

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

log = logging.getLogger("releasegate.target")


def service_url(host: str, port: int) -> str:
    """`http://HOST:PORT`, with an IPv6 host in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Listener:
    """The TCP site of a runner: closable, and re-openable on the same port."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port
        self._site: web.TCPSite | None = None
        self._reopen_at = 0.0
        self._refusal: asyncio.Task[None] | None = None
        self.failure: OSError | None = None  # set when it could not listen again
        self.on_failure: Callable[[], None] = lambda: None

    @property
    def listening(self) -> bool:
        """Whether the listening socket is open."""
        return self._site is not None

    async def open(self) -> None:
        """Listen. With port 0 the system picks one, kept for every later re-open."""
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._site = site
        ports = {int(address[1]) for address in self.runner.addresses}
        if self.port == 0 and len(ports) > 1:
            # A name with several addresses (localhost: 127.0.0.1 and ::1) got one free port
            # each; listen on the first one's port everywhere so the announced URL is right.
            await self.close()
            self.port = min(ports)
            await self.open()
            return
        self.port = ports.pop() if len(ports) == 1 else self.port

    async def close(self) -> None:
        """Stop listening; connections already open are left alone."""
        site, self._site = self._site, None
        if site is not None:
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
) -> None:
    """Serve until SIGINT or SIGTERM (or, with `parent_pid`, until that parent is gone).

    As soon as it listens it calls `announce("listening on http://HOST:PORT")` with the real
    port; a `refuse-for` fault given at start begins after that.
    """
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=GRACE_S)
    await runner.setup()
    listener = Listener(runner, settings.host, settings.port)
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
) -> None:
    """Serve (blocking) until SIGINT/SIGTERM, then shut down gracefully. See `serve`."""
    asyncio.run(serve(settings, announce, parent_pid=parent_pid))
