"""The metric providers against real things: a loopback HTTP server answering JSON (Sidekiq's
stats and Spring's actuator shapes), real commands, and Prometheus's answer shapes from a
loopback server speaking its HTTP API."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.errors import ProviderError
from releasegate.metrics.command_provider import CommandProvider
from releasegate.metrics.prometheus_provider import PrometheusProvider
from releasegate.metrics.provider import parse_text
from releasegate.metrics.web_provider import WebProvider, headers_for
from releasegate.slo.prometheus import Prometheus
from tests.loopback_server import LoopbackServer, QuietHandler

SIDEKIQ = {"sidekiq": {"processed": 1200, "failed": 3, "enqueued": "4"}}
SPRING = {"name": "jvm.memory.used", "measurements": [{"statistic": "VALUE", "value": 1.5e8}]}
PROMETHEUS = {
    "/scalar": {"status": "success", "data": {"resultType": "scalar", "result": [1, "0.93"]}},
    "/one": {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "0.5"]}]},
    },
    "/two": {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"pod": "a"}, "value": [1, "1"]},
                {"metric": {"pod": "b"}, "value": [1, "2"]},
            ],
        },
    },
    "/empty": {"status": "success", "data": {"resultType": "vector", "result": []}},
    "/nan": {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "NaN"]}]},
    },
    "/bad": {"status": "error", "errorType": "bad_data", "error": "parse error"},
}


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/sidekiq/stats":
            body, status = SIDEKIQ, 200
        elif path == "/actuator/metrics/jvm.memory.used":
            body, status = SPRING, 200
        elif path == "/headers":
            body, status = {"auth": self.headers.get("Authorization")}, 200
        elif path == "/number":
            self._send(200, b"42.5\n", "text/plain")
            return
        elif path.endswith("/api/v1/query"):
            prefix = path.removesuffix("/api/v1/query")
            body, status = PROMETHEUS[prefix], 200 if prefix != "/bad" else 400
        else:
            body, status = {"error": "not found"}, 404
        self._send(status, json.dumps(body).encode(), "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        sent = json.loads(self.rfile.read(length) or b"null")
        self._send(200, json.dumps({"echo": sent}).encode(), "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    running = LoopbackServer(_Handler)
    yield running.base
    running.close()


def test_web_picks_a_field_by_jsonpath(server: str) -> None:
    reading = WebProvider(f"{server}/sidekiq/stats", jsonpath="$.sidekiq.failed").read()

    assert reading.value == 3.0


def test_web_picks_a_field_by_jmespath(server: str) -> None:
    provider = WebProvider(
        f"{server}/actuator/metrics/jvm.memory.used",
        jmespath="measurements[?statistic=='VALUE'].value | [0]",
    )

    assert provider.read().value == 1.5e8


def test_web_reads_a_numeric_string_as_a_number(server: str) -> None:
    assert WebProvider(f"{server}/sidekiq/stats", jsonpath="$.sidekiq.enqueued").read().value == 4


def test_web_takes_a_plain_body_as_the_value(server: str) -> None:
    assert WebProvider(f"{server}/number").read().value == 42.5


def test_web_posts_its_json_body(server: str) -> None:
    provider = WebProvider(f"{server}/q", method="POST", body={"q": 1}, jsonpath="$.echo.q")

    assert provider.read().value == 1


def test_a_path_that_matches_nothing_is_no_data(server: str) -> None:
    reading = WebProvider(f"{server}/sidekiq/stats", jsonpath="$.sidekiq.dead").read()

    assert reading.value is None
    assert "matched nothing" in reading.note


def test_a_web_answer_that_is_not_2xx_is_a_provider_error(server: str) -> None:
    with pytest.raises(ProviderError, match=r"answered 404 \(GET http://127\.0\.0\.1:\d+/nope"):
        WebProvider(f"{server}/nope", jsonpath="$.x").read()


def test_a_web_url_that_does_not_answer_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="no answer"):
        WebProvider("http://127.0.0.1:9/x", timeout_s=2).read()


def test_the_targets_headers_go_to_its_origin_only(server: str) -> None:
    headers = {"Authorization": "Bearer abc"}

    assert headers_for(f"{server}/headers", server, headers) == headers
    assert headers_for("http://127.0.0.1:1/x", server, headers) == {}
    assert WebProvider(f"{server}/headers", headers=headers, jsonpath="$.auth").read().value == (
        "Bearer abc"
    )


@pytest.mark.parametrize(
    ("prefix", "value"),
    [("/scalar", 0.93), ("/one", 0.5), ("/two", [1.0, 2.0]), ("/empty", None), ("/nan", None)],
)
def test_prometheus_answers_become_values_and_no_data_is_none(
    server: str, prefix: str, value: object
) -> None:
    reading = PrometheusProvider(Prometheus(f"{server}{prefix}"), "q").read()

    assert reading.value == value
    if value is None:
        assert reading.note.startswith("no data")


def test_a_prometheus_that_refuses_the_query_is_a_provider_error(server: str) -> None:
    with pytest.raises(ProviderError, match="bad_data: parse error"):
        PrometheusProvider(Prometheus(f"{server}/bad"), "q(").read()


def test_a_command_prints_the_value(tmp_path: Path) -> None:
    code = "print('{\"failed\": 2}')"

    assert CommandProvider([sys.executable, "-c", code], 10, tmp_path).read().value == {"failed": 2}


def test_a_command_that_fails_is_a_provider_error_with_its_last_words(tmp_path: Path) -> None:
    code = "import sys; print('redis: connection refused', file=sys.stderr); sys.exit(3)"

    with pytest.raises(ProviderError, match="exit status 3: redis: connection refused"):
        CommandProvider([sys.executable, "-c", code], 10, tmp_path).read()


def test_a_command_past_its_timeout_is_stopped_and_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"timed out after 0\.5s"):
        CommandProvider([sys.executable, "-c", "import time; time.sleep(30)"], 0.5, tmp_path).read()


def test_a_command_that_is_not_there_is_a_provider_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="could not start"):
        CommandProvider(["no-such-command-here"], 5, tmp_path).read()


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3.0), (" 0.25\n", 0.25), ("[1, 2]", [1, 2]), ('{"a": 1}', {"a": 1}), ("NaN", None)],
)
def test_output_is_a_number_or_json(text: str, value: object) -> None:
    assert parse_text(text, "here") == value


@pytest.mark.parametrize("text", ["", "ok", "12 ms"])
def test_output_that_is_neither_is_a_provider_error(text: str) -> None:
    with pytest.raises(ProviderError, match=r"\(here\)"):
        parse_text(text, "here")
