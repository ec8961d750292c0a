"""The one way gates talk to the target: an httpx client that times every request.

Transport errors (connection refused or reset, DNS, TLS handshake) are retried with backoff a
bounded number of times, because a blip in the network says nothing about the release; if they
survive the retries the gate could not measure, and `TargetUnreachable` (EvidenceMissing) says so.
A response, whatever its status, is evidence and is never retried; a read timeout is evidence
too (the target connected but did not answer in time) and is returned as a timed-out `Probe`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from releasegate.errors import RequestNotSent, TargetUnreachable
from releasegate.redact import Redactor
from releasegate.units import format_duration

__all__ = ["Probe", "ProbeClient", "TargetUnreachable"]


@dataclass(frozen=True)
class Probe:
    """One request and what came back (or that nothing came back in time)."""

    method: str
    url: str
    elapsed_s: float
    attempts: int
    response: httpx.Response | None
    timeout_s: float

    @property
    def timed_out(self) -> bool:
        return self.response is None

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    @property
    def elapsed_ms(self) -> float:
        return self.elapsed_s * 1000.0

    @property
    def label(self) -> str:
        return f"{self.method} {self.url}"

    def json(self) -> Any:
        """The body as JSON, or a `ValueError` that says which URL answered what."""
        assert self.response is not None, "no response to read"
        try:
            return self.response.json()
        except ValueError:
            snippet = self.response.text[:120].replace("\n", " ")
            content_type = self.response.headers.get("content-type", "?")
            raise ValueError(
                f"{self.label} answered {content_type}, not JSON: {snippet!r}"
            ) from None


@dataclass
class ProbeClient:
    """An httpx client bound to the target's base URL, headers and timeout."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold secrets
    timeout_s: float = 5.0
    retries: int = 2
    backoff_s: float = 0.2
    verify_tls: bool = True
    redactor: Redactor = field(default_factory=Redactor, repr=False)
    transport: httpx.BaseTransport | None = None
    # called once, on the first answer of any status: evidence that the target was reachable
    on_first_answer: Callable[[], None] | None = field(default=None, repr=False)
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url,
                headers=dict(self.headers),
                timeout=self.timeout_s,
                verify=self.verify_tls,
                follow_redirects=False,
                transport=self.transport,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def request(
        self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any
    ) -> Probe:
        """Send one request; retry only transport errors; time the attempt that answered."""
        __tracebackhide__ = True  # a failure report shows the check, not the probe's insides
        timeout = timeout_s or self.timeout_s
        url = self.url(path)
        attempts = 0
        started = time.perf_counter()
        while True:
            attempts += 1
            sent = time.perf_counter()
            try:
                response = self.client.request(method, path, timeout=timeout, **kwargs)
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                # refused on this side, before the target saw anything: not unreachable
                raise RequestNotSent(
                    self.redactor.redact(f"{method} {url}: not sent: {exc}")
                ) from None
            except httpx.TimeoutException as exc:
                if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                    error: httpx.TransportError = exc
                else:  # connected, asked, and no answer in time: that is a measurement
                    return Probe(method, url, time.perf_counter() - sent, attempts, None, timeout)
            except httpx.TransportError as exc:
                error = exc
            else:
                if self.on_first_answer is not None:
                    noted, self.on_first_answer = self.on_first_answer, None
                    noted()
                return Probe(method, url, time.perf_counter() - sent, attempts, response, timeout)
            if attempts > self.retries:
                spent = format_duration(time.perf_counter() - started)
                reason = str(error) or type(error).__name__
                raise TargetUnreachable(
                    self.redactor.redact(
                        f"{method} {url}: {reason} ({type(error).__name__}) after {attempts}"
                        f" attempts over {spent}; is the target up and the URL right?"
                    )
                ) from None
            time.sleep(self.backoff_s * 2 ** (attempts - 1))

    def get(self, path: str, **kwargs: Any) -> Probe:
        __tracebackhide__ = True
        return self.request("GET", path, **kwargs)

    def __enter__(self) -> ProbeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Sample:
    """One request: seconds since the start, endpoint label, status (None: no answer),
    latency in ms (until the answer, or the error), and the error if there was one."""

    t: float
    endpoint: str
    status: int | None
    latency_ms: float
    error: str | None = None

    @property
    def server_error(self) -> bool:
        """A failure the SLO counts: a 5xx, or no answer at all."""
        return self.status is None or self.status >= 500

    @property
    def rate_limited(self) -> bool:
        return self.status == 429

    @property
    def transport_error(self) -> bool:
        """No answer because the target could not be reached (refused, reset, DNS, connect
        timeout), as opposed to no answer in time (a read timeout: the target was slow)."""
        name = (self.error or "").partition(":")[0]
        return self.status is None and name in TRANSPORT_ERRORS


# httpx's errors that say the target was not reached or dropped the connection; a ReadTimeout
# or WriteTimeout is a target that took the request and did not answer in time: a measurement
TRANSPORT_ERRORS = frozenset(
    {
        "ConnectError",
        "ConnectTimeout",
        "PoolTimeout",
        "ReadError",
        "WriteError",
        "NetworkError",
        "RemoteProtocolError",
        "LocalProtocolError",
        "ProtocolError",
        "ProxyError",
        "UnsupportedProtocol",
        "TransportError",
    }
)
