"""Smoke: the API answers as its OpenAPI document says (`[openapi]`), operation by operation."""

from releasegate.checks.api_contract import ApiContract, Operation, check_operation
from releasegate.config import Environment
from releasegate.errors import EvidenceMissing
from releasegate.probe import ProbeClient
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_api_contract(
    api_operation: Operation | None,
    api_contract: ApiContract,
    http: ProbeClient,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """The API operation {id} answers as its documentation says.

    Generated requests that the document allows get answers it documents: no 5xx, a
    documented status code and content type, a body that conforms to its schema."""
    settings = env.model.openapi
    if api_operation is None or settings is None:
        raise EvidenceMissing("the OpenAPI document could not be read when the checks were listed")
    judged = check_operation(
        api_contract,
        api_operation,
        http,
        max_examples=settings.max_examples,
        time_limit_s=settings.time_limit,
    )
    measure("requests", judged.samples)

    expect.judged(judged, context=f"env={env.name}")
