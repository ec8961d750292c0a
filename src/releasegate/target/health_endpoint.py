"""What `/api/health` answers, from the checks it made and the health faults: pure functions.

The overall status is the worst service status (healthy < degraded < down); HTTP 503 when down,
so a load balancer that only reads status codes takes the instance out too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

SERVICES = ("database", "cache", "email")
STATUSES = ("healthy", "degraded", "down")  # from best to worst


@dataclass(frozen=True)
class ServiceCheck:
    """One dependency's state as the service measured it."""

    status: str
    latency_ms: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The service's entry under `services` in the health answer."""
        body: dict[str, Any] = {"status": self.status, "latency_ms": round(self.latency_ms, 3)}
        if self.error is not None:
            body["error"] = self.error
        return body


def worst(statuses: Iterable[str]) -> str:
    """The worst of `statuses`; healthy when there are none."""
    return max(statuses, key=STATUSES.index, default="healthy")


def with_degraded(
    checks: Mapping[str, ServiceCheck], degraded: Collection[str]
) -> dict[str, ServiceCheck]:
    """The checks with every service named in `degraded` reported degraded (down stays down)."""
    return {
        name: replace(check, status=worst([check.status, "degraded"]))
        if name in degraded
        else check
        for name, check in checks.items()
    }


def overall_status(checks: Mapping[str, ServiceCheck], *, forced_down: bool = False) -> str:
    """The whole service's status: the worst of its dependencies, or down when forced."""
    return "down" if forced_down else worst(c.status for c in checks.values())


def http_status(status: str) -> int:
    """200 while the service can answer (healthy or degraded), 503 when it is down."""
    return 503 if status == "down" else 200


def health_answer(
    checks: Mapping[str, ServiceCheck],
    *,
    degraded: Collection[str] = (),
    forced_down: bool = False,
    timestamp: str,
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of `/api/health`."""
    reported = with_degraded(checks, degraded)
    status = overall_status(reported, forced_down=forced_down)
    body = {
        "status": status,
        "services": {name: check.as_json() for name, check in reported.items()},
        "timestamp": timestamp,
    }
    return http_status(status), body
