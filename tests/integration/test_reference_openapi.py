"""The reference service's OpenAPI document is accurate: every answer the running service gives
(each operation, its successes and its errors) has its status documented for that operation and
a body that validates against the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 says)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from releasegate.target.process import ReferenceServiceProcess

AUTH = {"Authorization": "Bearer local-demo-token"}
DOC = "urn:releasegate:openapi"


@pytest.fixture(scope="module")
def service() -> Iterator[ReferenceServiceProcess]:
    with ReferenceServiceProcess(service_version="3.2.1") as started:
        yield started


@pytest.fixture(scope="module")
def document(service: ReferenceServiceProcess) -> dict[str, Any]:
    answer = httpx.get(f"{service.base_url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    found: dict[str, Any] = answer.json()
    return found


def pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def conforms(document: dict[str, Any], path: str, method: str, answer: httpx.Response) -> None:
    """The answer's status is documented for the operation, and its body fits the schema."""
    responses = document["paths"][path][method]["responses"]
    status = str(answer.status_code)
    assert status in responses, f"{method.upper()} {path} answered {status}: not documented"
    content = responses[status].get("content")
    if content is None:
        assert answer.content == b"", f"{method.upper()} {path} {status} has an undocumented body"
        return
    registry = Registry().with_resource(
        DOC, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    where = pointer("paths", path, method, "responses", status, "content", "application/json")
    validator = Draft202012Validator({"$ref": f"{DOC}#/{where}/schema"}, registry=registry)
    try:
        validator.validate(answer.json())
    except ValidationError as exc:
        raise AssertionError(f"{method.upper()} {path} {status}: {exc.message}") from None


def test_the_document_describes_this_service(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "3.2.1"
    assert set(document["paths"]) == {
        "/api/health",
        "/api/version",
        "/api/tickets",
        "/api/tickets/{id}",
        "/api/stats",
    }


def test_every_answer_of_a_ticket_lifecycle_conforms(
    service: ReferenceServiceProcess, document: dict[str, Any]
) -> None:
    """Health, version, list, create, read, change, replace, delete: each answer as documented."""
    with httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as http:
        conforms(document, "/api/health", "get", http.get("/api/health"))
        conforms(document, "/api/version", "get", http.get("/api/version"))
        conforms(document, "/api/tickets", "get", http.get("/api/tickets"))
        created = http.post("/api/tickets", json={"title": "Printer on fire"})
        assert created.status_code == 201
        conforms(document, "/api/tickets", "post", created)
        one = f"/api/tickets/{created.json()['id']}"
        conforms(document, "/api/tickets/{id}", "get", http.get(one))
        conforms(document, "/api/tickets/{id}", "patch", http.patch(one, json={"status": "closed"}))
        conforms(document, "/api/tickets/{id}", "put", http.put(one, json={"title": "Fixed"}))
        deleted = http.delete(one)
        assert deleted.status_code == 204
        conforms(document, "/api/tickets/{id}", "delete", deleted)


def test_every_error_answer_conforms(
    service: ReferenceServiceProcess, document: dict[str, Any]
) -> None:
    """401 without a token, 404 for no such ticket, 422 for a bad body: documented, `{"error"}`."""
    with httpx.Client(base_url=service.base_url, timeout=10) as http:
        unauthorised = http.get("/api/tickets")
        assert unauthorised.status_code == 401
        conforms(document, "/api/tickets", "get", unauthorised)
        http.headers.update(AUTH)
        missing = http.get("/api/tickets/999999")
        assert missing.status_code == 404
        conforms(document, "/api/tickets/{id}", "get", missing)
        invalid = http.post("/api/tickets", json={"title": ""})
        assert invalid.status_code == 422
        conforms(document, "/api/tickets", "post", invalid)


def test_a_down_service_answers_as_documented(
    service: ReferenceServiceProcess, document: dict[str, Any]
) -> None:
    service.set_faults(["health=down"])
    try:
        down = httpx.get(f"{service.base_url}/api/health", timeout=10)
    finally:
        service.clear_faults()

    assert down.status_code == 503
    conforms(document, "/api/health", "get", down)


def test_a_body_that_breaks_the_schema_is_caught(document: dict[str, Any]) -> None:
    """The check itself can fail: a ticket without its title does not conform."""
    request = httpx.Request("GET", "http://127.0.0.1/api/tickets/1")
    broken = httpx.Response(200, json={"id": 1, "status": "open"}, request=request)

    with pytest.raises(AssertionError, match="'title' is a required property"):
        conforms(document, "/api/tickets/{id}", "get", broken)
