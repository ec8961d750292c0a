"""The API contract check (schemathesis) against a real HTTP server on loopback: an items API
that keeps its OpenAPI document passes; one that breaks it (a wrong type, an undocumented
status, a 5xx, a wrong content type) fails with the request as a masked curl line; a document
that cannot be read is inconclusive evidence (HOLD), never a failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.checks.api_contract import (
    ApiContract,
    ContractUnavailable,
    check_operation,
    load_contract,
)
from releasegate.config import OpenApiConfig
from releasegate.errors import TargetUnreachable
from releasegate.outcome import Judgement
from releasegate.probe import ProbeClient
from releasegate.redact import Redactor
from tests.loopback_server import LoopbackServer, QuietHandler

API_KEY = "k3y-for-the-items-api-0d41"  # pragma: allowlist secret

ITEM = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "items", "version": "1"},
    "servers": [{"url": "/v1"}],
    "paths": {
        "/items": {
            "get": {
                "tags": ["items"],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": ITEM}},
                            "required": ["items"],
                        }
                    )
                },
            },
            "post": {
                "tags": ["items"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string", "maxLength": 20}},
                            }
                        }
                    },
                },
                "responses": {"201": _json(ITEM), "422": _json(ERROR)},
            },
        },
        "/items/{id}": {
            "get": {
                "tags": ["items"],
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {"200": _json(ITEM), "404": _json(ERROR)},
            }
        },
        "/status": {
            "get": {"tags": ["ops"], "responses": {"200": _json({"type": "object"})}},
        },
    },
}


class ItemsApi(LoopbackServer):
    """The items API of DOCUMENT under /v1, answering as `mode` says: `keep` (as documented),
    `wrong-type` (ids as strings), `teapot` (418, undocumented), `crash` (500) or `text` (a
    text/plain body). It records the API key each request carried."""

    def __init__(self) -> None:
        self.mode = "keep"
        self.document: str = json.dumps(DOCUMENT)
        self.keys: list[str | None] = []
        api = self

        class Handler(QuietHandler):
            def _answer(self, status: int, body: object, content_type: str = "") -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _item(self, item_id: int, name: str) -> None:
                shown: object = str(item_id) if api.mode == "wrong-type" else item_id
                item = {"id": shown, "name": name}
                if api.mode == "teapot":
                    self._answer(418, {"error": "teapot"})
                elif api.mode == "crash":
                    self._answer(500, {"error": "boom"})
                elif api.mode == "text":
                    self._answer(200, "id=1", "text/plain")
                else:
                    self._answer(201 if self.command == "POST" else 200, item)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/openapi.json":
                    self._answer(200, api.document)
                    return
                api.keys.append(self.headers.get("X-Api-Key"))
                if path == "/v1/items":
                    if api.mode == "keep":
                        self._answer(200, {"items": [{"id": 1, "name": "one"}]})
                    else:
                        self._item(1, "one")
                elif path.startswith("/v1/items/"):
                    tail = path.rsplit("/", 1)[1]
                    if tail.lstrip("-").isdigit() and int(tail) == 1:
                        self._item(1, "one")
                    else:
                        self._answer(404, {"error": "no such item"})
                elif path == "/v1/status":
                    self._answer(200, {"ok": True})
                else:
                    self._answer(404, {"error": "not found"})

            def do_POST(self) -> None:
                api.keys.append(self.headers.get("X-Api-Key"))
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                self._item(2, str(body.get("name", "")))

        super().__init__(Handler)


@pytest.fixture
def api() -> Iterator[ItemsApi]:
    server = ItemsApi()
    yield server
    server.close()


@pytest.fixture
def client(api: ItemsApi) -> Iterator[ProbeClient]:
    with ProbeClient(
        api.base,
        headers={"X-Api-Key": API_KEY},
        retries=0,
        redactor=Redactor.of([API_KEY]),
    ) as probe_client:
        yield probe_client


def _contract(client: ProbeClient, **settings: Any) -> ApiContract:
    return load_contract(OpenApiConfig(url="/openapi.json", **settings), client, Path())


def _judge(contract: ApiContract, client: ProbeClient, label: str, examples: int = 5) -> Any:
    (operation,) = [o for o in contract.operations if o.label == label]
    return check_operation(contract, operation, client, max_examples=examples, time_limit_s=20)


def test_the_document_lists_every_operation_mounted_under_its_server_path(
    client: ProbeClient,
) -> None:
    contract = _contract(client)

    assert [o.label for o in contract.operations] == [
        "GET /items",
        "POST /items",
        "GET /items/{id}",
        "GET /status",
    ]
    assert contract.base_path == "/v1"
    assert [o.writes for o in contract.operations] == [False, True, False, False]


@pytest.mark.parametrize(
    ("settings", "labels"),
    [
        ({"tags": ["ops"]}, ["GET /status"]),
        ({"methods": ["POST"]}, ["POST /items"]),
        ({"paths": ["/items/{id}"]}, ["GET /items/{id}"]),
        ({"exclude_paths": ["/items", "/items/{id}"]}, ["GET /status"]),
    ],
    ids=["tags", "methods", "paths", "exclude-paths"],
)
def test_operations_are_selected_by_tag_method_and_path(
    client: ProbeClient, settings: dict[str, Any], labels: list[str]
) -> None:
    assert [o.label for o in _contract(client, **settings).operations] == labels


def test_an_api_that_keeps_its_contract_passes_every_operation(
    api: ItemsApi, client: ProbeClient
) -> None:
    contract = _contract(client)

    judged = [_judge(contract, client, o.label) for o in contract.operations]

    assert [j.judgement for j in judged] == [Judgement.PASS] * 4, [j.message for j in judged]
    assert all(j.samples >= 1 for j in judged)
    # the environment's headers went with every generated request
    assert api.keys
    assert set(api.keys) == {API_KEY}


@pytest.mark.parametrize(
    ("mode", "label", "violation", "status"),
    [
        ("wrong-type", "GET /items/{id}", 'is not of type "integer"', 200),
        ("wrong-type", "POST /items", 'is not of type "integer"', 201),
        ("teapot", "GET /items", "Undocumented status code\nReceived: 418", 418),
        ("crash", "POST /items", "Server error", 500),
        ("text", "GET /items", "Undocumented Content-Type", 200),
    ],
    ids=["wrong-type", "wrong-type-post", "undocumented-status", "server-error", "content-type"],
)
def test_an_api_that_breaks_its_contract_fails_with_the_request(
    api: ItemsApi, client: ProbeClient, mode: str, label: str, violation: str, status: int
) -> None:
    contract = _contract(client)
    api.mode = mode

    judged = _judge(contract, client, label, examples=12)

    assert judged.judgement is Judgement.FAIL, judged.message
    assert violation in judged.message
    assert judged.measured == status
    assert "curl -X" in judged.message
    assert f"{api.base}/v1/items" in judged.message
    assert API_KEY not in judged.message


def test_a_failure_stops_sending_requests(api: ItemsApi, client: ProbeClient) -> None:
    contract = _contract(client)
    api.mode = "crash"

    judged = _judge(contract, client, "GET /items", examples=50)

    assert judged.judgement is Judgement.FAIL
    assert judged.samples == 1
    assert len(api.keys) == 1


def test_requests_are_bounded_by_max_examples(api: ItemsApi, client: ProbeClient) -> None:
    contract = _contract(client)

    judged = _judge(contract, client, "POST /items", examples=7)

    assert judged.judgement is Judgement.PASS
    assert 1 <= judged.samples <= 7
    assert len(api.keys) == judged.samples


def test_requests_stop_at_the_time_limit(api: ItemsApi, client: ProbeClient) -> None:
    contract = _contract(client)
    (operation,) = [o for o in contract.operations if o.label == "POST /items"]

    judged = check_operation(contract, operation, client, max_examples=50, time_limit_s=1e-9)

    # nothing could be sent in time: that tells nothing about the API
    assert judged.judgement is Judgement.INCONCLUSIVE
    assert "time limit" in judged.message
    assert api.keys == []


def test_a_document_that_is_not_served_is_missing_evidence(
    api: ItemsApi, client: ProbeClient
) -> None:
    with pytest.raises(ContractUnavailable, match=r"/no-such\.json answered 404, not 200"):
        load_contract(OpenApiConfig(url="/no-such.json"), client, Path())


def test_a_page_is_not_an_openapi_document(api: ItemsApi, client: ProbeClient) -> None:
    api.document = "<html>a sign-in page</html>"

    with pytest.raises(ContractUnavailable, match="not an OpenAPI document"):
        _contract(client)


def test_a_yaml_document_is_read_from_the_repository(tmp_path: Path, client: ProbeClient) -> None:
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /v1/status:\n    get:\n"
        "      responses: {'200': {description: ok}}\n"
    )

    contract = load_contract(OpenApiConfig(path="api.yaml", base_path=""), client, tmp_path)

    assert [o.label for o in contract.operations] == ["GET /v1/status"]
    assert _judge(contract, client, "GET /v1/status").judgement is Judgement.PASS


def test_an_unreachable_target_is_unreachable_not_a_failure(client: ProbeClient) -> None:
    contract = _contract(client)
    dead = ProbeClient("http://127.0.0.1:9", retries=0)
    (operation,) = [o for o in contract.operations if o.label == "GET /status"]

    with pytest.raises(TargetUnreachable):
        check_operation(contract, operation, dead, max_examples=3, time_limit_s=10)
