"""The reference service's ticket validation: what POST, PUT and PATCH accept, and why not."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.target.api import InvalidTicket, ticket_changes


@pytest.mark.parametrize(
    ("body", "partial", "changes"),
    [
        ({"title": "Disk full"}, False, {"title": "Disk full", "status": "open"}),
        ({"title": "  padded  "}, False, {"title": "padded", "status": "open"}),
        ({"title": "x", "status": "closed"}, False, {"title": "x", "status": "closed"}),
        ({"status": "in_progress"}, True, {"status": "in_progress"}),
        ({"title": "renamed"}, True, {"title": "renamed"}),
    ],
    ids=["create", "trimmed", "with-status", "patch-status", "patch-title"],
)
def test_valid_bodies(body: dict[str, Any], partial: bool, changes: dict[str, str]) -> None:
    """POST/PUT need a title (status defaults to open); PATCH changes what it names."""
    assert ticket_changes(body, partial=partial) == changes


@pytest.mark.parametrize(
    ("body", "partial", "reason"),
    [
        (["title"], False, "the body must be a JSON object"),
        ({}, False, "title is required"),
        ({"title": "   "}, False, "title is required"),
        ({"title": 7}, False, "title is required: a non-empty string"),
        ({"title": "x" * 201}, False, "title is longer than 200 characters"),
        (
            {"title": "x", "status": "lost"},
            False,
            "status must be one of open, in_progress, closed",
        ),
        ({"title": "x", "owner": "sam"}, False, "unknown field(s) owner"),
        ({}, True, "nothing to change"),
    ],
    ids=["not-object", "no-title", "blank", "not-string", "too-long", "status", "field", "empty"],
)
def test_invalid_bodies_say_why(body: Any, partial: bool, reason: str) -> None:
    """Each refusal (a 422) names what is wrong."""
    with pytest.raises(InvalidTicket) as caught:
        ticket_changes(body, partial=partial)

    assert reason in str(caught.value)
