"""Smoke: the health contract of the target."""

from releasegate.checks.health import HealthReport, judge_services, parse_health
from releasegate.config import Environment
from releasegate.errors import HealthContractError
from releasegate.probe import Probe
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_health_answers_with_the_contract(
    health_probe: Probe, env: Environment, measure: Measure
) -> None:
    """The health endpoint answers JSON with a status and per-service statuses."""
    measure(
        "latency",
        health_probe.elapsed_ms,
        unit="ms",
        threshold=env.target.timeout * 1000,
        comparison="<=",
    )

    assert health_probe.response is not None, f"{health_probe.label}: no response (env={env.name})"
    assert health_probe.status in (200, 503), (
        f"{health_probe.label} answered {health_probe.status}, expected 200 or 503 (env={env.name})"
    )
    try:
        parse_health(health_probe.url, health_probe.status, health_probe.json())
    except (HealthContractError, ValueError) as exc:
        raise AssertionError(f"{exc} (env={env.name})") from None


def test_health_status_is_healthy(health: HealthReport, env: Environment, expect: Expect) -> None:
    """The overall status is healthy."""
    expect(
        "status",
        health.status,
        "==",
        "healthy",
        where=health.url,
        context=f"env={env.name}",
        message=f"GET {health.url} reports status {health.status!r} (HTTP {health.http_status}),"
        " expected 'healthy'",
    )


def test_health_reports_every_service_healthy(
    health: HealthReport, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Every service listed by the health endpoint is healthy."""
    for service in health.services.values():
        measure(f"{service.name}.status", service.status, threshold="healthy", comparison="==")
        if service.latency_ms is not None:
            measure(f"{service.name}.latency", service.latency_ms, unit="ms")

    expect.judged(judge_services(health), context=f"env={env.name}")
