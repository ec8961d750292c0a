"""The reference service's OpenAPI 3.1 document (`GET /openapi.json`): every API operation, the
statuses it answers and the shape of each answer, so contract checks and `releasegate init`
have an accurate description to read. Built from the same constants the API validates with."""

from __future__ import annotations

from typing import Any

from releasegate.target.health_endpoint import SERVICES
from releasegate.target.health_endpoint import STATUSES as HEALTH_STATUSES
from releasegate.target.tickets_store import STATUSES as TICKET_STATUSES
from releasegate.target.tickets_store import TITLE_MAX

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {JSON: {"schema": schema}}
    return answer


def _error(description: str) -> dict[str, Any]:
    return _answer(description, _ref("Error"))


# answers every protected operation may give besides its own
_GUARDED = {
    "401": _error("no or a wrong API token"),
    "429": _error("over the rate limit (Retry-After says when to come back)"),
    "500": _error("an internal error"),
}
_STORED = {"503": _error("the database is unavailable")}
_TICKET_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "the ticket's number (anything else is a 404)",
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _counts(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(names),
        "properties": {name: {"type": "integer", "minimum": 0} for name in names},
    }


def _stats_schema() -> dict[str, Any]:
    cache = _counts("requests", "hits", "misses")
    cache["required"].append("hit_rate")
    # hits / requests; null before the first lookup
    cache["properties"]["hit_rate"] = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
    return {
        "type": "object",
        "required": ["cache", "jobs", "process"],
        "properties": {
            "cache": cache,
            "jobs": _counts("enqueued", "queued", "processed", "failed"),
            "process": _counts("rss_bytes"),
        },
    }


def _schemas() -> dict[str, Any]:
    title = {"type": "string", "minLength": 1, "maxLength": TITLE_MAX}
    status = {"type": "string", "enum": list(TICKET_STATUSES)}
    health_status = {"type": "string", "enum": list(HEALTH_STATUSES)}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Ticket": {
            "type": "object",
            "required": ["id", "title", "status", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "title": title,
                "status": status,
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
            },
            "additionalProperties": False,
        },
        "NewTicket": {
            "type": "object",
            "required": ["title"],
            "properties": {"title": title, "status": status},
            "additionalProperties": False,
        },
        "TicketChanges": {
            "type": "object",
            "minProperties": 1,
            "properties": {"title": title, "status": status},
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "required": ["status", "services", "timestamp"],
            "properties": {
                "status": health_status,
                "services": {
                    "type": "object",
                    "properties": {
                        name: {
                            "type": "object",
                            "required": ["status", "latency_ms"],
                            "properties": {
                                "status": health_status,
                                "latency_ms": {"type": "number", "minimum": 0},
                                "error": {"type": "string"},
                            },
                        }
                        for name in SERVICES
                    },
                },
                "timestamp": {"type": "string", "format": "date-time"},
            },
        },
        "Stats": _stats_schema(),
        "Version": {
            "type": "object",
            "required": ["version", "commit", "started_at"],
            "properties": {
                "version": {"type": "string", "minLength": 1},
                "commit": {"type": "string"},
                "started_at": {"type": "string", "format": "date-time"},
            },
        },
    }


def openapi_document(version: str) -> dict[str, Any]:
    """The document for a service running `version`."""
    ticket = _answer("the ticket", _ref("Ticket"))
    missing = _error("no such ticket")
    invalid = _error("the body is not a valid ticket (the message says why)")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "releasegate reference service",
            "version": version,
            "description": "The demo target of releasegate: tickets behind a bearer token.",
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/health": {
                "get": {
                    "operationId": "health",
                    "tags": ["operations"],
                    "security": [],
                    "responses": {
                        "200": _answer("healthy or degraded", _ref("Health")),
                        "503": _answer("down", _ref("Health")),
                    },
                }
            },
            "/api/version": {
                "get": {
                    "operationId": "version",
                    "tags": ["operations"],
                    "security": [],
                    "responses": {"200": _answer("the version running", _ref("Version"))},
                }
            },
            "/api/tickets": {
                "get": {
                    "operationId": "listTickets",
                    "tags": ["tickets"],
                    "responses": {
                        "200": _answer(
                            "every ticket",
                            {
                                "type": "object",
                                "required": ["tickets"],
                                "properties": {
                                    "tickets": {"type": "array", "items": _ref("Ticket")}
                                },
                            },
                        ),
                        **_GUARDED,
                        **_STORED,
                    },
                },
                "post": {
                    "operationId": "createTicket",
                    "tags": ["tickets"],
                    "requestBody": _body(_ref("NewTicket")),
                    "responses": {
                        "201": _answer("created (Location names it)", _ref("Ticket")),
                        "422": invalid,
                        **_GUARDED,
                        **_STORED,
                    },
                },
            },
            "/api/tickets/{id}": {
                "parameters": [_TICKET_ID],
                "get": {
                    "operationId": "getTicket",
                    "tags": ["tickets"],
                    "responses": {"200": ticket, "404": missing, **_GUARDED, **_STORED},
                },
                "put": {
                    "operationId": "replaceTicket",
                    "tags": ["tickets"],
                    "requestBody": _body(_ref("NewTicket")),
                    "responses": {
                        "200": ticket,
                        "404": missing,
                        "422": invalid,
                        **_GUARDED,
                        **_STORED,
                    },
                },
                "patch": {
                    "operationId": "changeTicket",
                    "tags": ["tickets"],
                    "requestBody": _body(_ref("TicketChanges")),
                    "responses": {
                        "200": ticket,
                        "404": missing,
                        "422": invalid,
                        **_GUARDED,
                        **_STORED,
                    },
                },
                "delete": {
                    "operationId": "deleteTicket",
                    "tags": ["tickets"],
                    "responses": {
                        "204": {"description": "deleted"},
                        "404": missing,
                        **_GUARDED,
                        **_STORED,
                    },
                },
            },
            "/api/stats": {
                "get": {
                    "operationId": "stats",
                    "tags": ["operations"],
                    "description": "The ticket cache's lookups since the service started, the"
                    " background jobs' totals (from the database, so across restarts) and the"
                    " process's resident memory.",
                    "responses": {
                        "200": _answer("the service's signals", _ref("Stats")),
                        **_GUARDED,
                        **_STORED,
                    },
                }
            },
        },
    }
