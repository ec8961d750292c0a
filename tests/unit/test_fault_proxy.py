"""The fault-injecting proxy (tests/fault_proxy.py) in front of a real upstream on loopback:
without faults it passes requests and answers through unchanged; each fault, switched on at run
time, does exactly what it says (late answers, seeded 500s, a lost header, refused connections)
and `clear()` takes them all away."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fault_proxy import FaultProxy
from tests.loopback_server import LoopbackServer, QuietHandler


class EchoHandler(QuietHandler):
    """Answers every request with what it received, a status taken from `?status=`, and
    headers a gate would look at."""

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        status = 200
        for pair in query.split("&"):
            if pair.startswith("status="):
                status = int(pair.removeprefix("status="))
        answer = json.dumps(
            {
                "method": self.command,
                "path": path,
                "query": query,
                "body": body.decode(),
                "content_type": self.headers.get("Content-Type"),
                "user_agent": self.headers.get("User-Agent"),
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Upstream", "echo")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _echo


# one upstream for the module: it keeps no state, and each LoopbackServer.close() waits out
# serve_forever's half-second poll
@pytest.fixture(scope="module")
def upstream() -> Iterator[LoopbackServer]:
    server = LoopbackServer(EchoHandler)
    yield server
    server.close()


@pytest.fixture
def proxy(upstream: LoopbackServer) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.base, seed=7) as proxy:
        yield proxy


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, trust_env=False) as client:
        yield client


def _statuses(client: httpx.Client, proxy: FaultProxy, count: int) -> list[int]:
    return [client.get(f"{proxy.base}/n/{i}").status_code for i in range(count)]


def test_the_upstream_status_and_headers_come_through(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    answer = client.get(f"{proxy.base}/items?status=203")
    assert answer.status_code == 203
    assert answer.headers["X-Upstream"] == "echo"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.json()["path"] == "/items"


def test_the_query_string_reaches_the_upstream(proxy: FaultProxy, client: httpx.Client) -> None:
    answer = client.get(f"{proxy.base}/search", params={"q": "a b", "page": "2"})
    assert answer.json()["query"] == "q=a+b&page=2"


def test_a_post_body_and_its_content_type_reach_the_upstream(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    answer = client.post(f"{proxy.base}/items", json={"name": "alpha"})
    seen = answer.json()
    assert (seen["method"], seen["body"], seen["content_type"]) == (
        "POST",
        '{"name":"alpha"}',
        "application/json",
    )


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_forwarded_as_they_are(
    proxy: FaultProxy, client: httpx.Client, method: str
) -> None:
    assert client.request(method, f"{proxy.base}/items/1").json()["method"] == method


def test_a_head_answer_has_the_upstream_headers_and_no_body(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    answer = client.head(f"{proxy.base}/items")
    assert (answer.status_code, answer.headers["X-Upstream"], answer.content) == (200, "echo", b"")


def test_the_proxy_adds_no_client_headers_of_its_own(proxy: FaultProxy) -> None:
    with httpx.Client(trust_env=False, headers={"User-Agent": "gate-probe/1"}) as client:
        assert client.get(f"{proxy.base}/ua").json()["user_agent"] == "gate-probe/1"


def test_latency_delays_the_answer_by_at_least_the_setting(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.latency = 0.25
    started = time.monotonic()
    answer = client.get(f"{proxy.base}/slow")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.25


def test_an_error_ratio_of_one_answers_every_request_with_500(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.error_ratio = 1.0
    assert _statuses(client, proxy, 10) == [500] * 10


def test_an_error_ratio_of_zero_answers_no_request_with_500(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.error_ratio = 0.0
    assert _statuses(client, proxy, 10) == [200] * 10


def test_a_seeded_half_error_ratio_gives_both_answers(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.error_ratio = 0.5
    assert set(_statuses(client, proxy, 20)) == {200, 500}


def test_the_same_seed_gives_the_same_errors(
    upstream: LoopbackServer, client: httpx.Client
) -> None:
    runs = []
    for _ in range(2):
        with FaultProxy(upstream.base, seed=11) as proxy:
            proxy.error_ratio = 0.5
            runs.append(_statuses(client, proxy, 12))
    assert runs[0] == runs[1]


def test_drop_header_removes_that_header_whatever_its_case(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.drop_header = "x-FRAME-options"
    answer = client.get(f"{proxy.base}/page")
    assert "X-Frame-Options" not in answer.headers
    assert answer.headers["X-Upstream"] == "echo"


def test_refuse_makes_connections_fail(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.refuse()
    with pytest.raises(httpx.ConnectError):
        client.get(f"{proxy.base}/")


def test_restore_answers_again_on_the_same_port(proxy: FaultProxy, client: httpx.Client) -> None:
    base = proxy.base
    proxy.refuse()
    proxy.restore()
    assert client.get(f"{base}/back").status_code == 200


def test_clear_takes_every_fault_away(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.latency = 5.0
    proxy.error_ratio = 1.0
    proxy.drop_header = "X-Upstream"
    proxy.refuse()
    proxy.clear()
    answer = client.get(f"{proxy.base}/", timeout=2)
    assert (answer.status_code, answer.headers.get("X-Upstream")) == (200, "echo")


def test_an_upstream_that_is_down_gives_502(client: httpx.Client) -> None:
    # a port that was free a moment ago and has nothing listening on it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FaultProxy(f"http://127.0.0.1:{port}") as proxy:
        assert client.get(f"{proxy.base}/").status_code == 502


def test_an_upstream_off_loopback_is_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("http://192.0.2.1:80")


@pytest.mark.parametrize(("name", "value"), [("latency", -0.1), ("error_ratio", 1.5)])
def test_an_impossible_setting_is_refused(proxy: FaultProxy, name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        setattr(proxy, name, value)
