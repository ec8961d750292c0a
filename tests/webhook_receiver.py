"""A real webhook on loopback for the notification tests: it keeps every JSON body posted to it,
and answers GET with 204 so it can also stand in for a canary URL."""

from __future__ import annotations

import json
from typing import Any

from tests.loopback_server import LoopbackServer, QuietHandler


class WebhookReceiver(LoopbackServer):
    def __init__(self, path: str = "/hook") -> None:
        bodies: list[dict[str, Any]] = []

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def do_GET(self) -> None:
                self.send_response(204)
                self.end_headers()

        super().__init__(Handler)
        self.bodies = bodies
        self.url = f"{self.base}{path}"
