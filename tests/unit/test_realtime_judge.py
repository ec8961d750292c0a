"""The live-updates check: what matches, and what a WebSocket or an event stream on a real
loopback server gives the judge (expected text or JSON, a wrong message then the right one,
nothing in time, a closed channel, a refused handshake, a failed `after` action, nothing
listening)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from releasegate.checks.realtime import (
    Channel,
    Observation,
    channel_url,
    headers_for,
    judge_realtime,
    matches,
    sse_events,
    watch_channel,
)
from releasegate.config.realtime_tables import RealtimeCheck
from releasegate.errors import TargetUnreachable
from releasegate.outcome import Judgement
from releasegate.redact import Redactor
from tests.loopback_server import LoopbackServer, QuietHandler
from tests.tls_server import unused_port

TOKEN = "Bearer planted-Realtime-Token-5f1e"
TICKET = {"type": "ticket.created", "ticket": {"id": 7, "title": "Printer on fire"}}


# --- the WebSocket server -----------------------------------------------------------------------


def _socket_handler(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request else ""
    if path == "/wrong-then-right":
        connection.send(json.dumps({"type": "welcome"}))
        time.sleep(0.1)
        connection.send(json.dumps(TICKET))
    elif path == "/echo":  # answers what it is sent, and who it was sent by
        auth = connection.request.headers.get("Authorization", "") if connection.request else ""
        for message in connection:
            text = message if isinstance(message, str) else message.decode()
            connection.send(f"{text} from {auth or 'nobody'}")
    elif path == "/close":
        connection.send("closing soon")
        connection.close(1011, "internal error")
    elif path == "/secret":
        connection.send(f"hello {TOKEN} " + "x" * 400)
    # "/silent" and anything else: says nothing until the client goes
    for _ in connection:
        pass


def _refuse_some(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/forbidden":
        return connection.respond(403, "Forbidden\n")
    return None


@pytest.fixture(scope="module")
def ws_base() -> Iterator[str]:
    """`ws://127.0.0.1:PORT` of a real WebSocket server in a thread."""
    server: Server = serve(_socket_handler, "127.0.0.1", 0, process_request=_refuse_some)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()
    thread.join(timeout=5)


# --- the event-stream server --------------------------------------------------------------------


class _Events(QuietHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/html":
            body = b"<html>no stream here</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self._event(": connected\n\n")
        if self.path == "/wrong-then-right":
            self._event('event: welcome\ndata: {"type": "welcome"}\n\n')
            time.sleep(0.1)
            self._event(f"event: ticket.created\ndata: {json.dumps(TICKET)}\n\n")
        elif self.path == "/multiline":
            self._event("data: first line\ndata: Printer on fire\n\n")
        elif self.path == "/chatty":  # keep-alive comments, never an event
            for _ in range(30):
                self._event(": keep-alive\n\n")
                time.sleep(0.1)
        elif self.path == "/ends":
            self._event("data: bye\n\n")
            return
        time.sleep(3)  # silent (bounded): the client gives up first

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 201 if self.path == "/act" else 500
        body = json.dumps({"error": f"boom {TOKEN}"} if status == 500 else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _event(self, text: str) -> None:
        try:
            self.wfile.write(text.encode())
            self.wfile.flush()
        except OSError:
            pass  # the client went away


@pytest.fixture(scope="module")
def http_base() -> Iterator[str]:
    server = LoopbackServer(_Events)
    server.server.daemon_threads = True
    yield server.base
    server.close()


def _check(**entry: Any) -> RealtimeCheck:
    return RealtimeCheck.model_validate({"name": "live", "timeout": "0.5s", **entry})


def _judge(check: RealtimeCheck, base_url: str) -> tuple[Judgement, str, Observation]:
    channel = Channel(base_url, {"Authorization": TOKEN}, action_timeout_s=2.0)
    seen = watch_channel(check, channel)
    judged = judge_realtime(check, seen, Redactor.of([TOKEN.removeprefix("Bearer ")]))
    return judged.judgement, judged.message, seen


# --- over real servers --------------------------------------------------------------------------

CASES = [
    pytest.param(
        "ws",
        {"url": "/wrong-then-right", "expect_json": {"type": "ticket.created"}},
        Judgement.PASS,
        r"arrived after \d+ ms \(within 0.5 s\)",
        id="ws-wrong-then-right-json",
    ),
    pytest.param(
        "ws",
        {"url": "/wrong-then-right", "expect_json": {"$.ticket.title": "Printer on fire"}},
        Judgement.PASS,
        r"JSON \$\.ticket\.title = \"Printer on fire\" arrived",
        id="ws-jsonpath",
    ),
    pytest.param(
        "ws",
        {"url": "/wrong-then-right", "expect_json": {"$.ticket.title": "Printer fixed"}},
        Judgement.FAIL,
        r"no message with JSON \$\.ticket\.title = \"Printer fixed\" within 0.5 s \(2 arrived:"
        r" '\{\"type\": \"welcome\"\}'",
        id="ws-json-wrong-value",
    ),
    pytest.param(
        "ws",
        {"url": "/echo", "send": ["ping", {"command": "subscribe"}], "expect_text": "subscribe"},
        Judgement.PASS,
        r"text 'subscribe' arrived",
        id="ws-send-json",
    ),
    pytest.param(
        "ws",
        {"url": "/silent", "expect_text": "anything"},
        Judgement.FAIL,
        r"ws://127\.0\.0\.1:\d+/silent: connected, but no message with text 'anything' within"
        r" 0.5 s \(nothing arrived\)",
        id="ws-nothing-in-time",
    ),
    pytest.param(
        "ws",
        {"url": "/close", "expect_text": "anything"},
        Judgement.FAIL,
        r"the server closed the connection \(code 1011: internal error\) before text"
        r" 'anything' arrived \(1 arrived: 'closing soon'\)",
        id="ws-closed",
    ),
    pytest.param(
        "ws",
        {"url": "/forbidden", "expect_text": "anything"},
        Judgement.FAIL,
        r"/forbidden: the handshake was refused with HTTP 403",
        id="ws-refused-403",
    ),
    pytest.param(
        "ws",
        {"url": "/secret", "expect_text": "never"},
        Judgement.FAIL,
        r"'hello Bearer \*\*\*\*\*\*\*\* x+…'",
        id="ws-masked-then-shortened",
    ),
    pytest.param(
        "sse",
        {"url": "/wrong-then-right", "expect_json": {"type": "ticket.created"}},
        Judgement.PASS,
        r"event stream http://127\.0\.0\.1:\d+/wrong-then-right: connected in \d+ ms",
        id="sse-wrong-then-right",
    ),
    pytest.param(
        "sse",
        {"url": "/multiline", "expect_text": "first line\nPrinter on fire"},
        Judgement.PASS,
        r"arrived",
        id="sse-multiline-data",
    ),
    pytest.param(
        "sse",
        {"url": "/silent", "expect_text": "anything"},
        Judgement.FAIL,
        r"connected, but no message with text 'anything' within 0.5 s \(nothing arrived\)",
        id="sse-nothing-in-time",
    ),
    pytest.param(
        "sse",
        {"url": "/chatty", "expect_text": "anything"},
        Judgement.FAIL,
        r"connected, but no message with text 'anything' within 0.5 s \(nothing arrived\)",
        id="sse-keep-alives-only",
    ),
    pytest.param(
        "sse",
        {"url": "/ends", "expect_text": "anything"},
        Judgement.FAIL,
        r"the server ended the stream before text 'anything' arrived \(1 arrived: 'bye'\)",
        id="sse-ended",
    ),
    pytest.param(
        "sse",
        {"url": "/missing", "expect_text": "anything"},
        Judgement.FAIL,
        r"/missing: the handshake was refused with HTTP 404",
        id="sse-refused-404",
    ),
    pytest.param(
        "sse",
        {"url": "/html", "expect_text": "anything"},
        Judgement.FAIL,
        r"answered 200 text/html, not text/event-stream",
        id="sse-not-a-stream",
    ),
    pytest.param(
        "sse",
        {"url": "/silent", "expect_text": "x", "after": {"path": "/fail", "body": {"a": 1}}},
        Judgement.FAIL,
        r"the `after` action POST http://127\.0\.0\.1:\d+/fail answered 500:"
        r" '\{\"error\": \"boom Bearer \*\*\*\*\*\*\*\*\"\}'; nothing to broadcast",
        id="sse-after-fails",
    ),
    pytest.param(
        "sse",
        {"url": "/silent", "expect_text": "x", "after": {"path": "/act"}},
        Judgement.FAIL,
        r"within 0.5 s after POST http://127\.0\.0\.1:\d+/act \(nothing arrived\)",
        id="sse-after-without-broadcast",
    ),
]


@pytest.mark.parametrize(("server", "entry", "judgement", "message"), CASES)
def test_a_channel_is_judged_by_what_arrived(
    server: str,
    entry: dict[str, Any],
    judgement: Judgement,
    message: str,
    ws_base: str,
    http_base: str,
) -> None:
    """Each case: a real server, the entry, the judgement and the line that says why."""
    kind = {"kind": "websocket"} if server == "ws" else {}
    base = http_base if server == "sse" else ws_base.replace("ws://", "http://")
    started = time.monotonic()

    got, said, _ = _judge(_check(**kind, **entry), base)

    assert got is judgement, said
    assert TOKEN.removeprefix("Bearer ") not in said
    assert re.search(message, said), said
    assert time.monotonic() - started < 2.5  # bounded: 0.5 s to wait, a little to connect


def test_the_target_headers_go_to_its_own_origin_only(ws_base: str) -> None:
    """The environment's Authorization reaches a channel on the target, not one elsewhere."""
    base = ws_base.replace("ws://", "http://")
    entry = {"kind": "websocket", "send": ["hi"], "expect_text": "from"}

    _, _, own = _judge(_check(url="/echo", **entry), base)
    _, _, elsewhere = _judge(_check(url=f"{ws_base}/echo", **entry), "http://other.example")

    assert own.messages == (f"hi from {TOKEN}",)
    assert elsewhere.messages == ("hi from nobody",)


def test_the_connect_and_message_times_are_measured(ws_base: str) -> None:
    """A pass carries the connect time and the time to the message (about 100 ms here)."""
    _, _, seen = _judge(
        _check(kind="websocket", url="/wrong-then-right", expect_text="ticket.created"),
        ws_base.replace("ws://", "http://"),
    )

    assert seen.connect_ms is not None
    assert 0 < seen.connect_ms < 1000
    assert seen.message_ms is not None
    assert 50 < seen.message_ms < 1000
    assert seen.received == 2


@pytest.mark.parametrize("kind", ["websocket", "sse"])
def test_nothing_listening_is_target_unreachable(kind: str) -> None:
    """A closed port is not a failure of the release but missing evidence (decide's call)."""
    base = f"http://127.0.0.1:{unused_port()}"

    with pytest.raises(TargetUnreachable, match=r"127\.0\.0\.1.*is the target up"):
        watch_channel(_check(kind=kind, url="/live", expect_text="x"), Channel(base))


# --- pure parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expect_text", "expect_json", "matched"),
    [
        pytest.param("hello world", "world", None, True, id="text-substring"),
        pytest.param("hello world", "World", None, False, id="text-case-sensitive"),
        pytest.param(json.dumps(TICKET), None, {"type": "ticket.created"}, True, id="json-field"),
        pytest.param(json.dumps(TICKET), None, {"type": "ticket.updated"}, False, id="json-value"),
        pytest.param(json.dumps(TICKET), None, {"$.ticket.id": 7}, True, id="jsonpath"),
        pytest.param(json.dumps(TICKET), None, {"$.ticket.id": "7"}, False, id="jsonpath-type"),
        pytest.param(json.dumps(TICKET), None, {"$.ticket.owner": None}, False, id="missing"),
        pytest.param(json.dumps(TICKET), None, {"title": "Printer on fire"}, False, id="nested"),
        pytest.param("not json", None, {"type": "x"}, False, id="not-json"),
        pytest.param(json.dumps([1, 2]), None, {"type": "x"}, False, id="json-array"),
        pytest.param(
            json.dumps(TICKET), "Printer", {"type": "ticket.created"}, True, id="both-hold"
        ),
        pytest.param(json.dumps(TICKET), "Scanner", {"type": "ticket.created"}, False, id="both"),
    ],
)
def test_a_message_matches_text_and_json(
    text: str, expect_text: str | None, expect_json: dict[str, Any] | None, matched: bool
) -> None:
    """Text is a substring; JSON fields are names or JSONPaths with equal values; both hold."""
    assert matches(text, expect_text, expect_json) is matched


def test_event_stream_lines_become_events() -> None:
    """Data lines joined; comments, ids and events without data left out; the last one kept."""
    lines = [": hi", "event: a", "data: one", "data:two", "id: 3", "", "retry: 5", "", "data: end"]

    assert list(sse_events(iter(lines))) == ["one\ntwo", "end"]


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        ("/cable", "websocket", "wss://shop.example.com/cable"),
        ("/events", None, "https://shop.example.com/events"),
        ("https://rt.example.com/socket", "websocket", "wss://rt.example.com/socket"),
        ("ws://rt.example.com:4000/socket", None, "ws://rt.example.com:4000/socket"),
    ],
)
def test_the_channel_url_follows_the_kind(url: str, kind: str | None, expected: str) -> None:
    """A path joins the target; a WebSocket over http(s) takes the ws scheme."""
    check = _check(url=url, kind=kind, expect_text="x")

    assert channel_url(check, "https://shop.example.com") == expected


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("wss://shop.example.com/cable", True),
        ("wss://shop.example.com:443/cable", True),
        ("ws://shop.example.com/cable", False),
        ("wss://realtime.example.com/cable", False),
        ("https://shop.example.com/events", True),
    ],
)
def test_headers_go_to_the_target_origin(url: str, same: bool) -> None:
    """wss:// is https://'s origin; another host, port or scheme gets no credentials."""
    got = headers_for(url, "https://shop.example.com", {"Authorization": TOKEN})

    assert got == ({"Authorization": TOKEN} if same else {})
