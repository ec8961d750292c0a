"""Small network facts shared by the gates: a free loopback port, a URL's origin."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

Origin = tuple[str, str, int | None]


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a server started next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def origin(url: str) -> Origin:
    """(scheme, host, port) with the scheme's default port filled in: same origin, same tuple."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default
