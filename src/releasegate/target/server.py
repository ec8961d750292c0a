"""Serving the app on a loopback port until SIGINT/SIGTERM, with a listener that can refuse.

`refuse-for` closes the listening socket (new connections are refused by the kernel), waits,
and opens it again on the same port: what a restarting process or a flapping load balancer
looks like from outside.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from aiohttp import web

from releasegate.target.app import STATE, create_app
from releasegate.target.settings import ServiceSettings


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Listener:
    """The TCP site of a runner, closable and re-openable on the same port."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port
        self.site: web.TCPSite | None = None
        self._refusal: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await self.site.start()
        if self.port == 0:
            # aiohttp keeps the asyncio server (with its bound sockets) on the site
            sockets = getattr(self.site._server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.site is not None:
            await self.site.stop()
            self.site = None

    def refuse(self, seconds: float) -> None:
        """Close now, reopen after `seconds` (a refusal already under way is replaced)."""
        if self._refusal is not None and not self._refusal.done():
            self._refusal.cancel()
        self._refusal = asyncio.get_running_loop().create_task(self._refuse(seconds))

    async def _refuse(self, seconds: float) -> None:
        await self.close()
        try:
            await asyncio.sleep(seconds)
        finally:
            if self.site is None:
                await self.open()


async def serve(settings: ServiceSettings, announce: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM; announce the real URL as soon as it listens."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    listener = Listener(runner, settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await listener.open()
        app[STATE].refuse = listener.refuse
        announce(f"listening on {_url(settings.host, listener.port)}")
        if settings.faults.refuse_for:
            listener.refuse(settings.faults.refuse_for)
        await stop.wait()
    finally:
        await runner.cleanup()


def run(settings: ServiceSettings, *, announce: Callable[[str], None]) -> None:
    """Blocking form of `serve`."""
    asyncio.run(serve(settings, announce))
