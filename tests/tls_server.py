"""Real listeners on 127.0.0.1 for the TLS check's tests: a TLS server with a chosen
certificate, a plain-TCP server that answers like HTTP, one that never answers, and a port
nobody listens on.

Each runs in a daemon thread that polls a stop flag, so leaving the `with` block stops it within
a fraction of a second and closes every socket, even when the test failed. Errors inside the
thread (a client aborting the handshake is the normal case for an untrusted certificate) are
swallowed: pytest would turn an unhandled thread exception into a failure of whichever test
runs next.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import trustme

_POLL_S = 0.05  # how often the accept loop looks at the stop flag
_CONN_TIMEOUT_S = 2.0  # one slow or silent client cannot hold the server longer than this
_JOIN_TIMEOUT_S = 5.0


@contextmanager
def tls_server(cert: trustme.LeafCert) -> Iterator[int]:
    """Serve `cert` over TLS on 127.0.0.1; yields the port.

    After the handshake it sends a tiny HTTP response and closes: enough for any client that
    reads, and the handshake is all `inspect_certificate` needs.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)

    def handle(conn: socket.socket) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    with _serving(handle) as port:
        yield port


@contextmanager
def plain_server() -> Iterator[int]:
    """A listener that speaks HTTP without TLS, like an https URL pointed at the wrong port."""

    def handle(conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")

    with _serving(handle) as port:
        yield port


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes TCP connections (the kernel's backlog) and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port: int = listener.getsockname()[1]
        yield port


def unused_port() -> int:
    """A port that was free a moment ago: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _serving(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(_POLL_S)
    port: int = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # listener closed under us: we are stopping
                return
            with conn:
                conn.settimeout(_CONN_TIMEOUT_S)
                # ssl.SSLError is an OSError: clients that reject our certificate hang up
                with contextlib.suppress(OSError):
                    handle(conn)

    thread = threading.Thread(target=serve, name=f"test-server-{port}", daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(_JOIN_TIMEOUT_S)
        listener.close()
        assert not thread.is_alive(), f"test server on port {port} did not stop"
