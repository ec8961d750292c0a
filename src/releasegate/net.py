"""Small network facts shared by the gates: a free loopback port, a URL's origin, whether two
URLs name the same target."""

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


def normalise_url(url: str) -> str:
    """The target a URL names, spelled one way: scheme and host in lower case, the default
    port written out, no user info, query or fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{scheme}://{host}{f':{port}' if port else ''}{parts.path.rstrip('/')}"


def same_target(a: str, b: str) -> bool:
    """Whether two base URLs name the same target (`http://h` and `http://H:80/` do)."""
    return normalise_url(a) == normalise_url(b)
