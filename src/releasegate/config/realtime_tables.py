"""`[[realtime]]`: live updates over a WebSocket or server-sent events, checked by the smoke gate
(docs/realtime.md)."""

from __future__ import annotations

from releasegate.config.strict_base import StrictModel


class RealtimeCheck(StrictModel):
    """One `[[realtime]]` entry."""

    name: str
