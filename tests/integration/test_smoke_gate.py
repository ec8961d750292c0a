"""The smoke gate against the real reference service: green when healthy, and each fault it
exists to catch makes the right checks fail, with the URL, the value and the expectation."""

from __future__ import annotations

import json
from pathlib import Path

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import ClosedPortRun, GateRun, RunGate, StartService, write_env

# For the faults the API checks judge: the browser's checks add seconds of Chromium, not evidence
WITHOUT_BROWSER = ("-k", "not chromium")
HEALTH_CHECKS = (
    "test_health.py::test_health_status_is_healthy",
    "test_health.py::test_health_reports_every_service_healthy",
)


def test_a_healthy_service_passes_every_smoke_check(healthy_smoke_run: GateRun) -> None:
    """All smoke checks pass against a healthy service, and the decision is GO."""
    run = healthy_smoke_run

    assert run.process.returncode == 0, run.output
    outcomes = run.outcomes()
    assert len(outcomes) >= 10
    # the mixed-content check is skipped on the reference service's http pages
    assert {v for k, v in outcomes.items() if "nothing_insecure" not in k} == {"passed"}
    assert "test_endpoints.py::test_endpoint[GET /api/tickets]" in outcomes
    assert "test_endpoints.py::test_page[/dashboard]" in outcomes
    assert decide(run.results).verdict is Verdict.GO
    assert "verdict: GO" in run.output


def test_the_run_leaves_every_evidence_file(healthy_smoke_run: GateRun) -> None:
    """results.json, junit.xml, a self-contained report.html and allure-results/ are written."""
    run = healthy_smoke_run

    names = {p.name for p in run.run_dir.iterdir()}
    assert {"results.json", "junit.xml", "report.html", "allure-results"} <= names
    allure = run.run_dir / "allure-results"
    assert (allure / "environment.properties").read_text().count("releasegate.environment=local")
    assert "could not measure" in (allure / "categories.json").read_text()
    allure_results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    assert len(allure_results) == len(run.outcomes())
    html = (run.run_dir / "report.html").read_text()
    assert "Measured (threshold)" in html
    # the checks' titles, in plain words, in both reports
    title = run.check("test_endpoint[GET /api/tickets]").title
    assert title
    assert "What it checks" in html
    assert html.count(title) >= 1
    assert title in {r["name"] for r in allure_results}  # set in the call phase
    assert '<link rel="stylesheet"' not in html  # self-contained
    assert (run.run_dir.parent / "latest").resolve() == run.run_dir.resolve()
    results = run.results
    assert results.run.status == "finished"
    assert results.run.complete
    assert results.run.stages_requested == ["smoke"]
    endpoint = run.check("test_endpoint[GET /api/tickets]")
    latency = next(m for m in endpoint.measurements if m.name == "latency")
    assert latency.unit == "ms"
    assert latency.threshold == 5000


def test_a_degraded_database_fails_the_health_checks_naming_it(
    run_gate: RunGate, start_service: StartService
) -> None:
    """health=degraded:database fails the health checks; the message names service and state."""
    service = start_service("health=degraded:database")

    run = run_gate("--env", "local", "--base-url", service.base_url, *WITHOUT_BROWSER)

    failures = run.problems()
    assert set(failures) == {f"{c}" for c in HEALTH_CHECKS}
    services_message = failures[HEALTH_CHECKS[1]]
    assert "'database': 'degraded'" in services_message
    assert f"{service.base_url}/api/health" in services_message
    assert "env=local" in services_message
    assert {c.outcome for c in run.results.checks if c.outcome != "passed"} == {"failed"}
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_every_api_answer_an_error_fails_the_endpoint_checks(
    run_gate: RunGate, start_service: StartService
) -> None:
    """error-ratio=1.0 fails the API endpoint check with the URL, the status and the expectation."""
    service = start_service("error-ratio=1.0")

    run = run_gate("--env", "local", "--base-url", service.base_url, *WITHOUT_BROWSER)

    message = run.problems()["test_endpoints.py::test_endpoint[GET /api/tickets]"]
    assert f"GET {service.base_url}/api/tickets answered 500, expected 200" in message
    assert run.check("test_endpoint[GET /api/tickets]").outcome == "failed"
    assert decide(run.results).verdict is Verdict.ROLLBACK


STAGING = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer local-demo-token" }}

[[endpoints]]
path = "/api/tickets"

[[endpoints]]
path = "/api/no-such-endpoint"
name = "missing endpoint"

[[pages]]
path = "/dashboard"
expect_text = "This text is not on the page"
"""


def test_wrong_status_and_missing_content_fail_their_checks(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """`--env staging` from a staging file: a 404 and a missing text fail, the rest passes."""
    envs = tmp_path / "environments"
    write_env(envs, "staging", STAGING.format(url=healthy_service.base_url))

    run = run_gate("--env", "staging", env_vars={"RELEASEGATE_ENV_DIR": str(envs)})

    failures = run.problems()
    assert run.outcomes()["test_api_contract.py::test_api_contract[no openapi document]"] == (
        "skipped"
    )
    del failures["test_api_contract.py::test_api_contract[no openapi document]"]
    # skipped on an http page, saying so
    del failures["test_browser_pages.py::test_page_loads_nothing_insecure[/dashboard-chromium]"]
    assert set(failures) == {
        "test_endpoints.py::test_endpoint[missing endpoint]",
        "test_endpoints.py::test_page[/dashboard]",
        # the browser sees it too
        "test_browser_pages.py::test_page_shows_its_expected_content[/dashboard-chromium]",
    }
    assert (
        f"GET {healthy_service.base_url}/api/no-such-endpoint answered 404, expected 200"
        in failures["test_endpoints.py::test_endpoint[missing endpoint]"]
    )
    assert (
        "does not contain 'This text is not on the page'"
        in failures["test_endpoints.py::test_page[/dashboard]"]
    )
    assert run.results.run.environment == "staging"


def test_a_closed_port_is_missing_evidence_not_a_failure(
    closed_port_smoke_run: ClosedPortRun,
) -> None:
    """Nothing listening: every check errors (could not measure), none fails; HOLD."""
    run, url = closed_port_smoke_run, closed_port_smoke_run.url

    outcomes = set(run.outcomes().values())
    allure = [
        json.loads(p.read_text()) for p in (run.run_dir / "allure-results").glob("*-result.json")
    ]
    assert outcomes == {"error"}
    assert {r["status"] for r in allure} == {"broken"}  # Allure: could not measure, not a defect
    assert "connection" in run.results.checks[0].message.lower()
    assert url in run.results.checks[0].message
    assert decide(run.results).verdict is Verdict.HOLD
    assert "verdict: HOLD" in run.output
    assert " error" in run.output.splitlines()[-1]  # pytest's own summary counts errors


def test_parallel_workers_give_the_same_outcomes_as_a_serial_run(
    run_gate: RunGate, start_service: StartService
) -> None:
    """`-n 2` merges the workers' reports into the same checks as a serial run."""
    service = start_service("health=degraded:email")

    serial = run_gate("--env", "local", "--base-url", service.base_url)
    parallel = run_gate("--env", "local", "--base-url", service.base_url, "-n", "2")

    assert parallel.outcomes() == serial.outcomes()
    assert "failed" in set(serial.outcomes().values())
    assert {c.worker for c in parallel.results.checks} == {"gw0", "gw1"}
    assert parallel.results.run.workers == 2
    assert [c.message for c in parallel.results.checks] == [
        c.message for c in serial.results.checks
    ]
    # titles are made where the checks are collected and run: each worker's travel with its
    # reports to the controller's results.json
    titles = [c.title for c in parallel.results.checks]
    assert titles == [c.title for c in serial.results.checks]
    assert all(titles), titles
    assert "Page /dashboard@mobile fits a phone screen" in titles
