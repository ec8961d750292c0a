"""Smoke: the target's health endpoint, in the format it speaks (`[target] health_format`)."""

import pytest

from releasegate.checks.health import (
    HealthReport,
    answer_of,
    judge_services,
    judge_status,
    read_health,
)
from releasegate.config import Environment
from releasegate.errors import HealthContractError
from releasegate.probe import Probe
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_health_answers_with_the_contract(
    health_probe: Probe, env: Environment, measure: Measure
) -> None:
    """The health check answers in a known format.

    The health endpoint answers in its format (`auto`: the first it fits, recorded)."""
    measure(
        "latency",
        health_probe.elapsed_ms,
        unit="ms",
        threshold=env.target.timeout * 1000,
        comparison="<=",
    )
    assert health_probe.response is not None, f"{health_probe.label}: no response (env={env.name})"
    answer = answer_of(health_probe.url, health_probe.response)
    try:
        report = read_health(answer, env.target.health_format, env.target.health_expect_text)
    except (HealthContractError, ValueError) as exc:
        raise AssertionError(f"{exc} ({env.target.health_format} format, env={env.name})") from None
    measure("format", report.format)

    if report.format == "releasegate":
        assert answer.http_status in (200, 503), (
            f"{health_probe.label} answered {answer.http_status}, expected 200 or 503"
            f" (env={env.name})"
        )


def test_health_status_is_healthy(health: HealthReport, env: Environment, expect: Expect) -> None:
    """The service reports itself healthy.

    The overall status is healthy (UP, pass, a 2xx...: each format's word for it)."""
    expect.judged(judge_status(health), context=f"env={env.name}")


def test_health_reports_every_service_healthy(
    health: HealthReport, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Every service the health check lists is healthy.

    Every service listed by the health endpoint is healthy."""
    if not health.lists_services:
        pytest.skip(f"{health.url} lists no components ({health.format} format)")
    for service in health.services.values():
        measure(f"{service.name}.status", service.status, threshold="healthy", comparison="==")
        if service.latency_ms is not None:
            measure(f"{service.name}.latency", service.latency_ms, unit="ms")

    expect.judged(judge_services(health), context=f"env={env.name}")
