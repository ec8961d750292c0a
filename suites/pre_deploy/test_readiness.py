"""Pre-deploy: the configuration is in place and the target is healthy before we touch it."""

import os

import pytest

from releasegate.checks.health import HealthReport
from releasegate.config import Environment
from releasegate.errors import EvidenceMissing
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_required_environment_variables_are_set(env: Environment, expect: Expect) -> None:
    """Every required environment variable is set.

    Every variable in `[target] required_env` is set and not empty (names only, never values)."""
    names = env.target.required_env
    if not names:
        pytest.skip(f"no [target] required_env for env={env.name}")
    missing = [name for name in names if not os.environ.get(name)]

    expect(
        "missing",
        len(missing),
        "<=",
        0,
        samples=len(names),
        message=f"{len(missing)} of {len(names)} required environment variables not set:"
        f" {', '.join(missing)} ([target] required_env in {env.path}; env={env.name})",
    )


def test_target_is_healthy_before_the_deploy(
    health: HealthReport, env: Environment, measure: Measure
) -> None:
    """The service is healthy before the deploy.

    A deploy onto a sick target proves nothing about the deploy: HOLD, not GO, until it is
    healthy (`[pre_deploy] require_healthy = false` to deploy a fix onto it anyway)."""
    if not env.model.pre_deploy.require_healthy:
        pytest.skip(f"[pre_deploy] require_healthy = false for env={env.name}")
    measure("status", health.status, threshold="healthy", comparison="==")
    sick = [s.name for s in health.services.values() if s.status != "healthy"]

    if health.status != "healthy":
        services = f"; not healthy: {', '.join(sick)}" if sick else ""
        raise EvidenceMissing(
            f"GET {health.url} reports {health.shown_status} before the deploy{services}: a deploy"
            f" onto an unhealthy target is HOLD; fix it first, or set [pre_deploy]"
            f" require_healthy = false to deploy a fix (env={env.name})"
        )
