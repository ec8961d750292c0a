"""/api/health of the reference service: the overall status from the checks and the faults."""

from __future__ import annotations

import pytest

from releasegate.target.health_endpoint import (
    ServiceCheck,
    health_answer,
    http_status,
    overall_status,
    with_degraded,
    worst,
)

HEALTHY = ServiceCheck("healthy", 1.0)
DEGRADED = ServiceCheck("degraded", 1.0)
DOWN = ServiceCheck("down", 1.0, "refused")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "healthy"),
        (["healthy"], "healthy"),
        (["healthy", "healthy", "healthy"], "healthy"),
        (["healthy", "degraded", "healthy"], "degraded"),
        (["degraded", "down"], "down"),
        (["down", "healthy"], "down"),
    ],
    ids=["none", "one", "all-healthy", "one-degraded", "degraded-and-down", "down-first"],
)
def test_the_worst_status_wins(statuses: list[str], expected: str) -> None:
    """healthy < degraded < down; no services at all is healthy."""
    assert worst(statuses) == expected


@pytest.mark.parametrize(
    ("checks", "forced_down", "expected"),
    [
        ({"database": HEALTHY, "cache": HEALTHY}, False, "healthy"),
        ({"database": DEGRADED, "cache": HEALTHY}, False, "degraded"),
        ({"database": DOWN, "cache": DEGRADED}, False, "down"),
        ({"database": HEALTHY, "cache": HEALTHY}, True, "down"),
    ],
    ids=["healthy", "degraded", "down", "forced-down"],
)
def test_overall_status(checks: dict[str, ServiceCheck], forced_down: bool, expected: str) -> None:
    """The whole is its worst dependency, or down when `health=down` says so."""
    assert overall_status(checks, forced_down=forced_down) == expected


def test_degrading_a_service_leaves_a_down_one_down() -> None:
    """`health=degraded:X` lowers a healthy X to degraded, never raises a down X."""
    checks = with_degraded(
        {"database": DOWN, "cache": HEALTHY, "email": HEALTHY}, ["database", "cache"]
    )

    assert {n: c.status for n, c in checks.items()} == {
        "database": "down",
        "cache": "degraded",
        "email": "healthy",
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [("healthy", 200), ("degraded", 200), ("down", 503)],
    ids=["healthy", "degraded", "down"],
)
def test_only_down_answers_503(status: str, code: int) -> None:
    """Degraded still serves, so it answers 200; down answers 503."""
    assert http_status(status) == code


def test_the_answer_has_the_contract_shape() -> None:
    """status, services with status and latency (and error when any), timestamp."""
    code, body = health_answer(
        {"database": DOWN, "cache": HEALTHY, "email": HEALTHY},
        degraded=["email"],
        timestamp="2026-01-01T00:00:00+00:00",
    )

    assert code == 503
    assert body == {
        "status": "down",
        "services": {
            "database": {"status": "down", "latency_ms": 1.0, "error": "refused"},
            "cache": {"status": "healthy", "latency_ms": 1.0},
            "email": {"status": "degraded", "latency_ms": 1.0},
        },
        "timestamp": "2026-01-01T00:00:00+00:00",
    }
