"""The smoke gate's health and version checks against a real HTTP server speaking the formats
applications serve: Spring Boot Actuator's health, the IETF health+json draft's, a bare status
like Rails' `/up`, Kubernetes' verbose readyz (healthy is GO, down is ROLLBACK, with `auto` and
with the format named); a version under a JSONPath, in a header or in a meta tag; and an
application without a health or version endpoint has those checks skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from tests.integration.conftest import GateRun, RunGate, write_env
from tests.loopback_server import LoopbackServer, QuietHandler

HEALTH_CHECKS = (
    "test_health_answers_with_the_contract",
    "test_health_status_is_healthy",
    "test_health_reports_every_service_healthy",
)
SPRING_UP = {
    "status": "UP",
    "components": {
        "db": {"status": "UP", "details": {"database": "PostgreSQL"}},
        "ping": {"status": "UP"},
    },
}
SPRING_DOWN = {
    "status": "DOWN",
    "components": {
        "db": {"status": "DOWN", "details": {"error": "refused"}},
        "ping": {"status": "UP"},
    },
}
HEALTH_JSON_PASS = {
    "status": "pass",
    "checks": {"db:responseTime": [{"status": "pass", "observedValue": 3, "observedUnit": "ms"}]},
}
HEALTH_JSON_WARN = {"status": "warn", "checks": {"cache": [{"status": "warn"}]}}
VERBOSE_OK = "[+]ping ok\n[+]etcd ok\nreadyz check passed\n"

VERSIONS = json.dumps({"versions": {"app": "7.1.0-json", "schema": "42"}})
HOME = '<head><title>Home</title><meta name="app-version" content="7.1.0-meta"></head>Home'
# name -> (HTTP status, content type, body)
Answer = tuple[int, str, str]


class App(LoopbackServer):
    """A tiny application on loopback: `/health` answers what the test sets, `/about/version`
    a JSON of versions, `/` a page with a version meta tag; every answer a version header."""

    def __init__(self) -> None:
        self.health: Answer = (200, "text/plain", "OK")
        app = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/health"):
                    status, content_type, body = app.health
                elif self.path.startswith("/about/version"):
                    status, content_type, body = 200, "application/json", VERSIONS
                else:
                    status, content_type, body = 200, "text/html", HOME
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("X-App-Version", "7.1.0-header")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        super().__init__(Handler)
        self.url = self.base


@pytest.fixture
def app() -> Iterator[App]:
    started = App()
    yield started
    started.close()


ENV = """
[target]
base_url = "{url}"
read_only = true
retries = 0
health_path = "{health_path}"
health_format = "{health_format}"
{version}

[[endpoints]]
path = "/"
expect_text = "Home"

[browser]
enabled = false
"""


def smoke(
    run_gate: RunGate,
    tmp_path: Path,
    app: App,
    fmt: str,
    path: str = "/health",
    version: str = "",
    checks: str = "health",
) -> GateRun:
    envs = tmp_path / "environments"
    text = ENV.format(url=app.url, health_path=path, health_format=fmt, version=version)
    write_env(envs, "app", text)
    return run_gate("--env", "app", "-k", checks, env_vars={"RELEASEGATE_ENV_DIR": str(envs)})


def health_outcomes(run: GateRun) -> dict[str, str]:
    return {name: run.check(name).outcome for name in HEALTH_CHECKS}


def recorded_format(run: GateRun) -> object:
    check = run.check("test_health_answers_with_the_contract")
    return next(m.value for m in check.measurements if m.name == "format")


@pytest.mark.parametrize(
    ("fmt", "healthy", "expected_format"),
    [
        pytest.param(
            "auto", (200, "application/json", json.dumps(SPRING_UP)), "spring", id="spring-auto"
        ),
        pytest.param(
            "health+json",
            (200, "application/health+json", json.dumps(HEALTH_JSON_PASS)),
            "health+json",
            id="health+json",
        ),
        pytest.param("auto", (200, "text/plain", VERBOSE_OK), "status", id="readyz-verbose-auto"),
    ],
)
def test_a_healthy_application_in_its_own_format_is_go(
    run_gate: RunGate, tmp_path: Path, app: App, fmt: str, healthy: Answer, expected_format: str
) -> None:
    app.health = healthy

    run = smoke(run_gate, tmp_path, app, fmt)

    assert health_outcomes(run) == dict.fromkeys(HEALTH_CHECKS, "passed"), run.output
    assert recorded_format(run) == expected_format
    assert decide(run.results).verdict is Verdict.GO


def test_a_rails_up_endpoint_passes_and_has_no_components_to_judge(
    run_gate: RunGate, tmp_path: Path, app: App
) -> None:
    """Rails' `/up`: a 200 with an HTML body; the per-service check skips, GO."""
    app.health = (
        200,
        "text/html; charset=utf-8",
        '<html><body style="background-color: green"></body></html>',
    )

    run = smoke(run_gate, tmp_path, app, "status")

    outcomes = health_outcomes(run)
    assert outcomes["test_health_status_is_healthy"] == "passed", run.output
    assert outcomes["test_health_reports_every_service_healthy"] == "skipped"
    assert (
        "lists no components (status format)"
        in run.check("test_health_reports_every_service_healthy").message
    )
    assert decide(run.results).verdict is Verdict.GO


@pytest.mark.parametrize(
    ("down", "words"),
    [
        pytest.param(
            (503, "application/json", json.dumps(SPRING_DOWN)), "'DOWN' (down)", id="spring"
        ),
        pytest.param(
            (200, "application/health+json", json.dumps(HEALTH_JSON_WARN)),
            "'warn' (degraded)",
            id="health+json-warn",
        ),
        pytest.param(
            (503, "text/html", "<h1>Service Unavailable</h1>"), "'503' (down)", id="status"
        ),
    ],
)
def test_an_application_that_says_it_is_down_is_rollback(
    run_gate: RunGate, tmp_path: Path, app: App, down: Answer, words: str
) -> None:
    app.health = down

    run = smoke(run_gate, tmp_path, app, "auto")

    status = run.check("test_health_status_is_healthy")
    assert status.outcome == "failed", run.output
    assert f"reports status {words}" in status.message
    assert f"{app.url}/health" in status.message
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_a_named_format_the_answer_is_not_in_fails_its_contract_naming_the_flaw(
    run_gate: RunGate, tmp_path: Path, app: App
) -> None:
    """`health_format = "spring"` but the app answers health+json: the contract check fails,
    naming the field, the value and the format; the status cannot be judged (not a GO)."""
    app.health = (200, "application/json", json.dumps(HEALTH_JSON_PASS))

    run = smoke(run_gate, tmp_path, app, "spring")

    contract = run.check("test_health_answers_with_the_contract")
    assert contract.outcome == "failed"
    assert "'status' is 'pass', expected one of ('UP'" in contract.message
    assert decide(run.results).verdict is not Verdict.GO


def test_an_application_without_a_health_endpoint_skips_the_health_checks(
    run_gate: RunGate, tmp_path: Path, app: App
) -> None:
    """`health_path = ""`: every health check skipped with that reason, none failed."""
    run = smoke(run_gate, tmp_path, app, "auto", path="")

    outcomes = health_outcomes(run)
    assert set(outcomes.values()) == {"skipped"}, run.output
    assert 'health_path = ""' in run.check("test_health_status_is_healthy").message


VERSION_CHECK = "test_version_endpoint_answers_a_version"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param(
            'version_path = "/about/version"\nversion_key = "$.versions.app"',
            "7.1.0-json",
            id="jsonpath",
        ),
        pytest.param(
            'version_path = ""\nversion_header = "X-App-Version"', "7.1.0-header", id="header"
        ),
        pytest.param('version_path = ""\nversion_meta = "app-version"', "7.1.0-meta", id="meta"),
    ],
)
def test_the_version_is_read_where_the_application_states_it(
    run_gate: RunGate, tmp_path: Path, app: App, version: str, expected: str
) -> None:
    run = smoke(run_gate, tmp_path, app, "auto", version=version, checks="version")

    check = run.check(VERSION_CHECK)
    assert check.outcome == "passed", run.output
    assert check.measurements[0].value == expected


def test_a_version_the_application_does_not_state_fails_naming_where_it_looked(
    run_gate: RunGate, tmp_path: Path, app: App
) -> None:
    version = 'version_path = "/about/version"\nversion_key = "$.versions.web"'

    run = smoke(run_gate, tmp_path, app, "auto", version=version, checks="version")

    check = run.check(VERSION_CHECK)
    assert check.outcome == "failed"
    assert f"GET {app.url}/about/version: no '$.versions.web' with a non-empty version" in (
        check.message
    )


def test_an_application_without_a_version_endpoint_skips_the_version_check(
    run_gate: RunGate, tmp_path: Path, app: App
) -> None:
    run = smoke(run_gate, tmp_path, app, "auto", version='version_path = ""', checks="version")

    check = run.check(VERSION_CHECK)
    assert check.outcome == "skipped", run.output
    assert 'version_path = ""' in check.message
