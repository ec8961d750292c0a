"""Live updates: a WebSocket or a server-sent events stream connects, and the expected message
arrives in time (after the `after` action, when the entry has one). docs/realtime.md.

`watch_channel` connects and listens, bounded in time: the connection within `timeout`, the
`after` action within the target's timeout, then the messages until `timeout` has passed since
the wait began (a server-sent events stream may overrun that by up to one more `timeout` while a
read is under way; a WebSocket never does). It returns what it saw, or raises
`TargetUnreachable` when nothing listens at all. `judge_realtime` turns what was seen into a
`Judged`: the expected message in time is a pass; a handshake refused with an HTTP status, a
failed `after` action, a closed channel or no matching message in time are failures of the
target, naming the URL, the timeout and what did arrive (masked, then shortened).
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from releasegate.checks.transport import describe_error, is_unreachable
from releasegate.config.realtime_tables import RealtimeAction, RealtimeCheck
from releasegate.errors import RequestNotSent, TargetUnreachable
from releasegate.net import origin
from releasegate.outcome import Judged
from releasegate.redact import Redactor

# what a failure message shows of the messages that did arrive
SHOWN_MESSAGES = 5
SHOWN_CHARS = 160
# kept for the message; the count of all of them is kept too
KEPT_MESSAGES = 50
_HTTP_OF = {"ws": "http", "wss": "https"}
_WS_OF = {"http": "ws", "https": "wss"}


@dataclass(frozen=True)
class ActionResult:
    """The `after` request: its status, or why there was none."""

    label: str
    status: int | None
    elapsed_ms: float
    error: str | None = None
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Observation:
    """What one check saw. `connect_ms` None: no connection (`refused` holds the HTTP status of
    a refused handshake, `problem` other reasons). `message_ms`: from the start of the wait (once
    connected and the `after` action answered) to the expected message, None when it did not
    come. `messages`: the first ones that arrived (unmasked; the judge masks what it shows)."""

    url: str
    kind: str
    timeout_s: float
    connect_ms: float | None = None
    refused: int | None = None
    problem: str | None = None
    after: ActionResult | None = None
    message_ms: float | None = None
    messages: tuple[str, ...] = ()
    received: int = 0
    closed: str | None = None  # the server ended the channel before the expected message

    @property
    def answered(self) -> bool:
        """Whether the target answered at all (connected, or refused with a status)."""
        return self.connect_ms is not None or self.refused is not None


# --- what matches -------------------------------------------------------------------------------


def _json_value(document: Any, key: str) -> tuple[bool, Any]:
    """(found, value) of a field name or a JSONPath in a decoded message."""
    if not key.startswith("$"):
        if isinstance(document, dict) and key in document:
            return True, document[key]
        return False, None
    import jsonpath

    found = jsonpath.findall(key, document)
    if not found:
        return False, None
    return True, found[0] if len(found) == 1 else found


def matches(text: str, expect_text: str | None, expect_json: Mapping[str, Any] | None) -> bool:
    """Whether one message holds `expect_text` (a substring) and every field of `expect_json`
    with its value (both, when both are given)."""
    if expect_text is not None and expect_text not in text:
        return False
    if not expect_json:
        return True
    try:
        document = json.loads(text)
    except ValueError:
        return False
    for key, want in expect_json.items():
        found, value = _json_value(document, key)
        if not found or value != want:
            return False
    return True


# --- where and with what ------------------------------------------------------------------------


def channel_url(check: RealtimeCheck, base_url: str) -> str:
    """The absolute URL to connect to: a path joins the target's base URL (as ws:// or wss://
    for a WebSocket); an http(s) URL of a WebSocket takes the ws scheme."""
    url = check.url
    if url.startswith("/"):
        url = base_url.rstrip("/") + url
    if check.channel_kind == "websocket":
        parts = urlsplit(url)
        if parts.scheme in _WS_OF:
            url = urlunsplit(parts._replace(scheme=_WS_OF[parts.scheme]))
    return url


def on_target(url: str, base_url: str) -> bool:
    """Whether `url` (ws or http) is on the target's own origin."""
    parts = urlsplit(url)
    as_http = urlunsplit(parts._replace(scheme=_HTTP_OF.get(parts.scheme, parts.scheme)))
    return origin(as_http) == origin(base_url)


def headers_for(url: str, base_url: str, target_headers: Mapping[str, str]) -> dict[str, str]:
    """The environment's headers when `url` is on the target's own origin, none elsewhere: its
    credentials never reach another host."""
    return dict(target_headers) if on_target(url, base_url) else {}


@dataclass(frozen=True)
class Channel:
    """Everything `watch_channel` needs besides the entry: the target and how to talk to it."""

    base_url: str
    target_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    action_timeout_s: float = 5.0
    verify_tls: bool = True


# --- the `after` action -------------------------------------------------------------------------


def send_action(action: RealtimeAction, channel: Channel) -> ActionResult:
    """Send the `after` request to the target; its status, or the error that left none."""
    url = channel.base_url.rstrip("/") + action.path
    label = f"{action.method} {url}"
    headers = {**channel.target_headers, **action.headers}
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=channel.action_timeout_s, verify=channel.verify_tls) as client:
            response = client.request(action.method, url, headers=headers, json=action.body)
    except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise RequestNotSent(f"{label}: not sent: {exc}") from None
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return ActionResult(label, None, elapsed, describe_error(exc))
    elapsed = (time.perf_counter() - started) * 1000
    return ActionResult(label, response.status_code, elapsed, body=response.text[:300])


# --- WebSocket ----------------------------------------------------------------------------------


def _outgoing(item: str | dict[str, Any] | list[Any]) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def _text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _open_socket(url: str, timeout_s: float) -> socket.socket:
    """The TCP connection, opened here so that "nothing listens" (TargetUnreachable) is told
    apart from a server that took the connection and then refused or ignored the handshake."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    try:
        return socket.create_connection((parts.hostname or "", port), timeout=timeout_s)
    except OSError as exc:
        reason = f"{type(exc).__name__}: {exc.strerror or exc}"
        raise TargetUnreachable(
            f"{url}: {reason} (TCP connect, 1 attempt); is the target up and the URL right?"
        ) from None


def _watch_websocket(check: RealtimeCheck, url: str, channel: Channel) -> Observation:
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect
    from websockets.typing import Subprotocol

    headers = {**headers_for(url, channel.base_url, channel.target_headers), **check.headers}
    seen = Observation(url, "websocket", check.timeout)
    started = time.perf_counter()
    sock = _open_socket(url, check.timeout)
    try:
        connection = connect(
            url,
            sock=sock,
            ssl=_tls_context(channel.verify_tls) if url.startswith("wss:") else None,
            subprotocols=[Subprotocol(p) for p in check.subprotocols] or None,
            additional_headers=headers,
            open_timeout=check.timeout,
            close_timeout=1.0,
            ping_interval=None,  # the wait is short; a ping would only add traffic
            proxy=None,
            legacy=True,  # a connection now, closed by the `with` below
        )
    except InvalidStatus as exc:
        sock.close()
        return replace(seen, refused=exc.response.status_code)
    except (InvalidHandshake, TimeoutError, OSError) as exc:
        sock.close()
        why = "no handshake answer" if isinstance(exc, TimeoutError) else describe_error(exc)
        return replace(seen, problem=f"connected, but the WebSocket handshake failed: {why}")
    with connection:
        seen = replace(seen, connect_ms=_ms_since(started))
        for item in check.send:
            connection.send(_outgoing(item))
        if check.after is not None:
            seen = replace(seen, after=send_action(check.after, channel))
            if not seen.after or not seen.after.ok:
                return seen

        def receive(deadline: float) -> Iterator[str]:
            while (left := deadline - time.monotonic()) > 0:
                try:
                    yield _text(connection.recv(timeout=left))
                except TimeoutError:
                    return
                except ConnectionClosed as exc:
                    raise ChannelEnded(_describe_close(exc)) from None

        return _listen(seen, check, receive)


def _describe_close(exc: Exception) -> str:
    received = getattr(exc, "rcvd", None)
    if received is None:
        return "the connection was closed without a close frame"
    reason = f": {received.reason}" if received.reason else ""
    return f"the server closed the connection (code {received.code}{reason})"


class ChannelEnded(Exception):
    """The channel ended (closed by the server, or broken) before the expected message."""


Receive = Callable[[float], Iterator[str]]


def _listen(seen: Observation, check: RealtimeCheck, receive: Receive) -> Observation:
    """Read messages from `receive(deadline)` until one matches, the time is up, or the channel
    ends (`ChannelEnded`)."""
    waiting = time.perf_counter()
    deadline = time.monotonic() + check.timeout
    kept: list[str] = []
    count = 0
    try:
        for text in receive(deadline):
            count += 1
            if len(kept) < KEPT_MESSAGES:
                kept.append(text)
            if matches(text, check.expect_text, check.expect_json):
                return replace(
                    seen, messages=tuple(kept), received=count, message_ms=_ms_since(waiting)
                )
    except ChannelEnded as ended:
        return replace(seen, messages=tuple(kept), received=count, closed=str(ended))
    return replace(seen, messages=tuple(kept), received=count)


# --- server-sent events -------------------------------------------------------------------------


def sse_events(lines: Iterator[str]) -> Iterator[str]:
    """The data of each event of a text/event-stream (`data:` lines joined by newlines; comments
    and events without data left out), as the lines come."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield "\n".join(data)
            data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


class _Deadline:
    """Lines until a deadline, checked after every line (comments and keep-alives too), so a
    chatty stream without the expected event cannot hold the wait open."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.passed = False

    def bound(self, lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            if time.monotonic() >= self.deadline:
                self.passed = True
                return
            yield line


def _watch_sse(check: RealtimeCheck, url: str, channel: Channel) -> Observation:
    headers = {
        "Accept": "text/event-stream",
        "Cache-Control": "no-cache",
        **headers_for(url, channel.base_url, channel.target_headers),
        **check.headers,
    }
    seen = Observation(url, "sse", check.timeout)
    started = time.perf_counter()
    # every read waits at most `timeout`: a silent stream ends the wait then
    timeout = httpx.Timeout(check.timeout)
    with httpx.Client(timeout=timeout, verify=channel.verify_tls) as client:
        try:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 300:
                    return replace(seen, refused=response.status_code)
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if media != "text/event-stream":
                    return replace(
                        seen,
                        problem=f"answered {response.status_code} {media or 'without a type'},"
                        " not text/event-stream",
                    )
                seen = replace(seen, connect_ms=_ms_since(started))
                if check.after is not None:
                    seen = replace(seen, after=send_action(check.after, channel))
                    if not seen.after or not seen.after.ok:
                        return seen
                lines = response.iter_lines()

                def receive(deadline: float) -> Iterator[str]:
                    timed = _Deadline(deadline)
                    try:
                        yield from sse_events(timed.bound(lines))
                    except httpx.ReadTimeout:
                        return
                    except httpx.HTTPError as exc:
                        raise ChannelEnded(describe_error(exc)) from None
                    if not timed.passed:
                        raise ChannelEnded("the server ended the stream")

                return _listen(seen, check, receive)
        except httpx.HTTPError as exc:
            if is_unreachable(exc) and seen.connect_ms is None:
                raise TargetUnreachable(
                    f"GET {url}: {describe_error(exc)} (1 attempt); is the target up and the URL"
                    " right?"
                ) from None
            if seen.connect_ms is None:
                return replace(seen, problem=f"no answer: {describe_error(exc)}")
            return replace(seen, closed=describe_error(exc))


# --- both ---------------------------------------------------------------------------------------


def watch_channel(check: RealtimeCheck, channel: Channel) -> Observation:
    """Connect to the entry's channel, send its messages and its `after` action, and listen for
    the expected message; what was seen. `TargetUnreachable` when nothing listens at all."""
    url = channel_url(check, channel.base_url)
    if check.channel_kind == "websocket":
        return _watch_websocket(check, url, channel)
    return _watch_sse(check, url, channel)


def _shown_messages(seen: Observation, redactor: Redactor) -> str:
    if not seen.messages:
        return "nothing arrived"
    shown = []
    for text in seen.messages[:SHOWN_MESSAGES]:
        # masked before shortened: a secret cut in half would no longer be recognised
        masked = " ".join(redactor.redact(text).split())
        shown.append(repr(masked if len(masked) <= SHOWN_CHARS else masked[:SHOWN_CHARS] + "…"))
    more = seen.received - len(shown)
    return f"{seen.received} arrived: " + "; ".join(shown) + (f" (and {more} more)" if more else "")


def expectation(check: RealtimeCheck) -> str:
    """What the entry waits for, as a person reads it."""
    parts = []
    if check.expect_text is not None:
        parts.append(f"text {check.expect_text!r}")
    if check.expect_json:
        parts.append(
            "JSON " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in check.expect_json.items())
        )
    return " and ".join(parts)


def judge_realtime(check: RealtimeCheck, seen: Observation, redactor: Redactor) -> Judged:
    """Pass when the expected message arrived in time; every other outcome is a failure of the
    target naming the URL, the timeout and what did arrive. The figures: time to the message
    against the timeout (ms); `where` the URL. Messages and URLs are masked by `redactor`."""
    url = redactor.redact(seen.url)
    limit_ms = seen.timeout_s * 1000
    kind = "WebSocket" if seen.kind == "websocket" else "event stream"
    figures: dict[str, Any] = {"measured": seen.message_ms, "limit": limit_ms, "where": url}
    wanted = expectation(check)
    if seen.refused is not None:
        return Judged.failed(
            f"{kind} {url}: the handshake was refused with HTTP {seen.refused}",
            measured=seen.refused,
            where=url,
        )
    if seen.connect_ms is None:
        return Judged.failed(
            f"{kind} {url}: {redactor.redact(seen.problem or 'no connection')}", **figures
        )
    if seen.after is not None and not seen.after.ok:
        action = seen.after
        label = redactor.redact(action.label)
        if action.status is None:
            why = f"got no answer ({redactor.redact(action.error or '?')})"
        else:
            body = " ".join(redactor.redact(action.body).split())[:SHOWN_CHARS]
            why = f"answered {action.status}" + (f": {body!r}" if body else "")
        return Judged.failed(
            f"{kind} {url}: the `after` action {label} {why}; nothing to broadcast",
            measured=action.status,
            where=url,
        )
    if seen.message_ms is not None:
        return Judged.passed(
            f"{kind} {url}: connected in {seen.connect_ms:.0f} ms; {wanted} arrived after"
            f" {seen.message_ms:.0f} ms (within {seen.timeout_s:g} s)",
            **figures,
        )
    arrived = _shown_messages(seen, redactor)
    if seen.closed is not None:
        return Judged.failed(
            f"{kind} {url}: {redactor.redact(seen.closed)} before {wanted} arrived ({arrived})",
            **figures,
        )
    caused = f" after {redactor.redact(seen.after.label)}" if seen.after is not None else ""
    return Judged.failed(
        f"{kind} {url}: connected, but no message with {wanted} within {seen.timeout_s:g} s"
        f"{caused} ({arrived})",
        **figures,
    )


# --- small helpers ------------------------------------------------------------------------------


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
