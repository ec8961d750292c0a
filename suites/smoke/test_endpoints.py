"""Smoke: every endpoint and page the environment lists answers as expected, in time."""

from releasegate.checks.http_expectations import judge_answer
from releasegate.config import Endpoint, Environment, Page
from releasegate.probe import ProbeClient
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_endpoint(
    endpoint: Endpoint, http: ProbeClient, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Endpoint {id} answers as expected, in time.

    The endpoint answers its expected status and content within its timeout."""
    probe = http.request(endpoint.method, endpoint.path, timeout_s=endpoint.timeout)
    measure(
        "latency", probe.elapsed_ms, unit="ms", threshold=probe.timeout_s * 1000, comparison="<="
    )
    measure("status", probe.status, threshold=list(endpoint.statuses), comparison="in")

    judged = judge_answer(probe, endpoint.statuses, endpoint.expect_text, endpoint.expect_json)
    expect.judged(judged, context=f"env={env.name}")


def test_page(
    page_spec: Page, http: ProbeClient, env: Environment, measure: Measure, expect: Expect
) -> None:
    """Page {id} answers as expected, in time.

    The page answers its expected status and text within its timeout."""
    probe = http.get(page_spec.path, timeout_s=page_spec.timeout)
    measure(
        "latency", probe.elapsed_ms, unit="ms", threshold=probe.timeout_s * 1000, comparison="<="
    )

    judged = judge_answer(probe, (page_spec.expect_status,), page_spec.expect_text)
    expect.judged(judged, context=f"env={env.name}")
