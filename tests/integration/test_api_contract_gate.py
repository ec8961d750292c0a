"""The smoke gate's API contract checks (`[openapi]`, schemathesis) against the real reference
service, which serves an OpenAPI document of its API: one check per operation, all passing on a
healthy service; `contract=break` (ticket ids as strings) fails the ticket operations with the
request as a masked curl line (ROLLBACK); a read-only environment skips the operations that
write; a document that cannot be read is HOLD, never a failure. The checks run under `-n N`."""

from __future__ import annotations

from pathlib import Path

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import GateRun, RunGate, StartService, write_env

CONTRACT = ("-k", "api_contract")
OPERATIONS = (
    "GET /api/health",
    "GET /api/version",
    "GET /api/tickets",
    "POST /api/tickets",
    "GET /api/tickets/{id}",
    "PUT /api/tickets/{id}",
    "PATCH /api/tickets/{id}",
    "DELETE /api/tickets/{id}",
    "GET /api/stats",
)
TICKET_ANSWERS = {op for op in OPERATIONS if "tickets" in op and not op.startswith("DELETE")}


def contract_outcomes(run: GateRun) -> dict[str, str]:
    prefix = "test_api_contract.py::test_api_contract["
    return {k[len(prefix) : -1]: v for k, v in run.outcomes().items() if k.startswith(prefix)}


def test_a_healthy_service_keeps_its_contract_in_every_operation(
    healthy_smoke_run: GateRun,
) -> None:
    outcomes = contract_outcomes(healthy_smoke_run)

    assert outcomes == dict.fromkeys(OPERATIONS, "passed")
    check = healthy_smoke_run.check("test_api_contract[POST /api/tickets]")
    requests = next(m for m in check.measurements if m.name == "requests")
    assert isinstance(requests.value, float)
    assert 1 <= requests.value <= 3  # local.toml: max_examples = 3


def test_a_response_that_breaks_its_schema_fails_its_operation(
    run_gate: RunGate, start_service: StartService
) -> None:
    service = start_service("contract=break")

    run = run_gate("--env", "local", "--base-url", service.base_url, "-n", "2", *CONTRACT)

    outcomes = contract_outcomes(run)
    failed = {op for op, outcome in outcomes.items() if outcome == "failed"}
    # the list and a created ticket always carry a ticket; the others when a generated id exists
    assert {"GET /api/tickets", "POST /api/tickets"} <= failed <= TICKET_ANSWERS
    assert outcomes["GET /api/health"] == outcomes["GET /api/version"] == "passed"
    message = run.problems()["test_api_contract.py::test_api_contract[GET /api/tickets]"]
    assert 'is not of type "integer"' in message
    assert f"curl -X GET -H 'authorization: [Filtered]' {service.base_url}/api/tickets" in message
    assert "local-demo-token" not in run.output + run.results.model_dump_json()
    assert decide(run.results).verdict is Verdict.ROLLBACK


READ_ONLY = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer ${{APP_TOKEN}}" }}

[openapi]
url = "{document}"
max_examples = 3
"""


def _read_only_run(run_gate: RunGate, url: str, tmp_path: Path, document: str) -> GateRun:
    envs = tmp_path / "environments"
    write_env(envs, "staging", READ_ONLY.format(url=url, document=document))
    return run_gate(
        "--env",
        "staging",
        *CONTRACT,
        env_vars={"RELEASEGATE_ENV_DIR": str(envs), "APP_TOKEN": "local-demo-token"},
    )


def test_a_read_only_environment_checks_only_the_operations_that_read(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    run = _read_only_run(run_gate, healthy_service.base_url, tmp_path, "/openapi.json")

    outcomes = contract_outcomes(run)
    assert {op for op, o in outcomes.items() if o == "passed"} == {
        op for op in OPERATIONS if op.startswith("GET ")
    }
    assert {op for op, o in outcomes.items() if o == "skipped"} == {
        op for op in OPERATIONS if not op.startswith("GET ")
    }
    assert decide(run.results).verdict is Verdict.GO


def test_a_document_that_cannot_be_read_is_hold_not_rollback(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    run = _read_only_run(run_gate, healthy_service.base_url, tmp_path, "/no-such-openapi.json")

    assert contract_outcomes(run) == {"openapi document": "error"}
    message = run.problems()["test_api_contract.py::test_api_contract[openapi document]"]
    assert f"GET {healthy_service.base_url}/no-such-openapi.json answered 404" in message
    assert decide(run.results).verdict is Verdict.HOLD
