"""The health contract: what `/api/health` must say, parsed into a typed report.

    {"status": "healthy" | "degraded" | "down",
     "services": {"database": {"status": "healthy", "latency_ms": 1.2}, ...}}

Parsing is strict about shape (a malformed answer is a failed contract, named precisely) and
says nothing about health itself: the smoke gate judges the parsed report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.errors import HealthContractError
from releasegate.outcome import Judged

STATUSES = ("healthy", "degraded", "down")


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    status: str
    latency_ms: float | None = None


@dataclass(frozen=True)
class HealthReport:
    url: str
    http_status: int
    status: str
    services: Mapping[str, ServiceHealth]

    @property
    def unhealthy(self) -> dict[str, str]:
        """Service name -> what it reported, for every service that is not healthy."""
        return {n: s.status for n, s in self.services.items() if s.status != "healthy"}


def judge_services(report: HealthReport) -> Judged:
    """Every service the health endpoint lists is healthy (and it lists some)."""
    if not report.services:
        return Judged.failed(f"GET {report.url} lists no services", where=report.url)
    unhealthy = report.unhealthy
    if unhealthy:
        return Judged.failed(
            f"GET {report.url}: unhealthy services {unhealthy}, expected every service 'healthy'",
            measured=len(unhealthy),
            limit=0,
            where=report.url,
        )
    return Judged.passed(
        f"GET {report.url}: {len(report.services)} services healthy", measured=0, limit=0
    )


def parse_health(url: str, http_status: int, payload: Any) -> HealthReport:
    """A `HealthReport` from the decoded JSON body, or `HealthContractError` naming the flaw."""
    if not isinstance(payload, dict):
        raise HealthContractError(f"{url}: body is {type(payload).__name__}, not a JSON object")
    status = payload.get("status")
    if status not in STATUSES:
        raise HealthContractError(f"{url}: 'status' is {status!r}, expected one of {STATUSES}")
    raw_services = payload.get("services", {})
    if not isinstance(raw_services, dict):
        raise HealthContractError(f"{url}: 'services' is not an object")
    services: dict[str, ServiceHealth] = {}
    for name, raw in raw_services.items():
        if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
            shown = raw.get("status") if isinstance(raw, dict) else raw
            raise HealthContractError(
                f"{url}: services.{name}.status is {shown!r}, expected one of {STATUSES}"
            )
        latency = raw.get("latency_ms")
        services[name] = ServiceHealth(
            name, raw["status"], float(latency) if isinstance(latency, int | float) else None
        )
    return HealthReport(url, http_status, status, services)
