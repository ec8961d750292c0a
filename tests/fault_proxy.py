"""A reverse proxy on a free loopback port that forwards every request to an upstream on
loopback and can be told, while a test runs, to misbehave: answer late (`latency`), answer a
share of requests with a 500 (`error_ratio`, seeded so a run repeats), lose a response header
(`drop_header`), or stop listening altogether (`refuse()` until `restore()`).

It lets a test put a real application behind a fault without touching the application:

    with FaultProxy(upstream="http://127.0.0.1:8000", seed=7) as proxy:
        proxy.error_ratio = 0.5
        ...  # point the gate at proxy.base
        proxy.clear()
"""

from __future__ import annotations

import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

import httpx

__all__ = ["FaultProxy"]

# RFC 9110 section 7.6.1: they describe one connection, so a proxy never passes them on
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_INJECTED_BODY = b"fault injected by the test proxy\n"
# a short poll keeps refuse() and close() from waiting the default half second
_POLL_INTERVAL_S = 0.05


def _hop_by_hop(connection_header: str | None) -> frozenset[str]:
    """The fixed hop-by-hop names plus those the `Connection` header lists for this hop."""
    named = {token.strip().lower() for token in (connection_header or "").split(",")}
    return _HOP_BY_HOP | {name for name in named if name}


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


class _ProxyHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 like the servers a gate meets, but every answer closes its connection: a
    # kept-alive connection would outlive refuse() and keep answering
    protocol_version = "HTTP/1.1"
    # a client that stops sending mid-request must not hold a thread forever
    timeout = 10

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy = cast(_ProxyServer, self.server).proxy
        self.close_connection = True
        try:
            body = self._request_body()
        except (ValueError, OSError):
            self._answer(400, [("Content-Type", "text/plain")], b"unreadable request body\n")
            return
        latency, fail, drop = proxy._draw()
        if latency > 0:
            time.sleep(latency)
        if fail:
            # the upstream is not called: an injected error must not repeat a write behind it
            headers = [("Content-Type", "text/plain; charset=utf-8"), ("X-Fault-Injected", "error")]
            self._answer(500, headers, _INJECTED_BODY, drop=drop)
            return
        status, reason, headers, content = proxy._forward(
            self.command, self.path, self._forward_headers(), body
        )
        self._answer(status, headers, content, reason=reason, drop=drop)

    def _request_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline(65537)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # trailers end at an empty line; they are hop-by-hop here and dropped
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _forward_headers(self) -> list[tuple[str, str]]:
        skip = _hop_by_hop(self.headers.get("Connection")) | {"host", "content-length", "expect"}
        return [(name, value) for name, value in self.headers.items() if name.lower() not in skip]

    def _answer(
        self,
        status: int,
        headers: list[tuple[str, str]],
        content: bytes,
        *,
        reason: str | None = None,
        drop: str | None = None,
    ) -> None:
        bodiless = self.command == "HEAD" or status in (204, 304)
        try:
            self.send_response_only(status, reason or None)
            for name, value in headers:
                if drop is not None and name.lower() == drop:
                    continue
                # our own length goes out below, except where the upstream's describes a body
                # that is not sent (HEAD, 304)
                if name.lower() == "content-length" and not bodiless:
                    continue
                self.send_header(name, value)
            if not bodiless:
                self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", "close")
            self.end_headers()
            if not bodiless:
                self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up (often a timeout on injected latency): nothing left to tell it
            pass


class FaultProxy:
    """`FaultProxy(upstream)`: a proxy to `upstream` at `base` until `close()` (or the end of a
    `with` block). The faults are plain attributes, safe to change from any thread while
    requests are in flight; a request reads them all at once when it arrives."""

    def __init__(self, upstream: str, *, seed: int = 0, timeout_s: float = 10.0) -> None:
        parts = urlsplit(upstream)
        # tests must never send traffic off the machine, whatever URL a fixture computes
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK_HOSTS:
            raise ValueError(f"upstream must be an http(s) URL on loopback, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self._seed = seed
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._latency = 0.0
        self._error_ratio = 0.0
        self._drop_header: str | None = None
        # trust_env=False: the environment's proxy settings would send loopback traffic
        # elsewhere; verify=False: loopback TLS upstreams in tests carry self-signed
        # certificates, and the proxy is never what a test judges
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,
            trust_env=False,
            verify=False,  # noqa: S501
        )
        self._server_lock = threading.Lock()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._listen()
        self.base = f"http://127.0.0.1:{self._port}"

    # faults

    @property
    def latency(self) -> float:
        """Seconds added before every answer, injected errors and 502s included."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, not {seconds}")
        with self._lock:
            self._latency = float(seconds)

    @property
    def error_ratio(self) -> float:
        """The share of requests answered with a 500 instead of being forwarded."""
        with self._lock:
            return self._error_ratio

    @error_ratio.setter
    def error_ratio(self, ratio: float) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"error_ratio must be within [0, 1], not {ratio}")
        with self._lock:
            self._error_ratio = float(ratio)

    @property
    def drop_header(self) -> str | None:
        """A response header removed from every answer (any case), or None."""
        with self._lock:
            return self._drop_header

    @drop_header.setter
    def drop_header(self, name: str | None) -> None:
        with self._lock:
            self._drop_header = name.lower() if name else None

    def clear(self) -> None:
        """No faults, listening again, and the error draws restarted from the seed, so the
        errors that follow are the ones a fresh proxy with that seed would give."""
        with self._lock:
            self._latency = 0.0
            self._error_ratio = 0.0
            self._drop_header = None
            self._random = random.Random(self._seed)
        self.restore()

    def _draw(self) -> tuple[float, bool, str | None]:
        with self._lock:
            # no draw while errors are off: the seeded sequence starts at the first request
            # that can fail, whatever traffic went before
            fail = self._error_ratio > 0 and self._random.random() < self._error_ratio
            return self._latency, fail, self._drop_header

    # listening

    @property
    def refusing(self) -> bool:
        """Whether connections are being refused (between `refuse()` and `restore()`)."""
        with self._server_lock:
            return self._server is None

    def refuse(self) -> None:
        """Stop listening: new connections are refused until `restore()`. A request already
        being answered still gets its answer."""
        with self._server_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None and thread is not None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def restore(self) -> None:
        """Listen again on the same port (and so at the same `base`)."""
        self._listen()

    def _listen(self) -> None:
        with self._server_lock:
            if self._server is not None:
                return
            server = _ProxyServer(("127.0.0.1", self._port), _ProxyHandler)
            server.proxy = self
            self._port = server.server_address[1]
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL_S},
                name=f"fault-proxy-{self._port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread

    # forwarding

    def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """The upstream's answer as (status, reason, headers, raw body), or a 502/504 of our
        own when it cannot be had."""
        if not target.startswith("/"):
            # an absolute-form target (the client took us for a forward proxy): keep its path
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            # a bare Request, not build_request(): the client's default headers (its own
            # User-Agent, an Accept-Encoding the caller never sent) must not reach the upstream
            request = httpx.Request(method, self.upstream + target, headers=headers, content=body)
            response = self._client.send(request, stream=True)
            try:
                # raw: a compressed body goes on compressed, matching its Content-Encoding
                content = b"".join(response.iter_raw())
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            return _gateway_error(504, "Gateway Timeout", exc)
        except httpx.HTTPError as exc:
            return _gateway_error(502, "Bad Gateway", exc)
        skip = _hop_by_hop(response.headers.get("Connection"))
        passed = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.headers.raw
            if name.decode("latin-1").lower() not in skip
        ]
        return response.status_code, response.reason_phrase, passed, content

    # lifetime

    def close(self) -> None:
        self.refuse()
        self._client.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _gateway_error(
    status: int, reason: str, exc: Exception
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    body = f"{reason}: upstream {type(exc).__name__}: {exc}\n".encode()
    return status, reason, [("Content-Type", "text/plain; charset=utf-8")], body
