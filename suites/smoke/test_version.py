"""Smoke: the target says which version it runs."""

from releasegate.config import Environment
from releasegate.probe import Probe
from releasegate.pytest_plugin.fixtures import Measure


def test_version_endpoint_answers_a_version(
    version_probe: Probe, env: Environment, measure: Measure
) -> None:
    """The version endpoint answers 200 with a non-empty "version"."""
    assert version_probe.response is not None, (
        f"{version_probe.label}: no response (env={env.name})"
    )
    assert version_probe.status == 200, (
        f"{version_probe.label} answered {version_probe.status}, expected 200 (env={env.name})"
    )
    body = version_probe.json()
    version = body.get("version") if isinstance(body, dict) else None
    measure("version", version if isinstance(version, str) else None)

    assert isinstance(version, str), (
        f"{version_probe.label}: 'version' is {version!r} (env={env.name})"
    )
    assert version.strip(), (
        f"{version_probe.label}: 'version' is {version!r}, expected a non-empty string"
        f" (env={env.name})"
    )
