"""Smoke: the target says which version it runs (`[target] version_*`)."""

from releasegate.checks.release_version import VersionSource, version_in
from releasegate.config import Environment
from releasegate.probe import Probe
from releasegate.pytest_plugin.fixtures import Measure


def test_version_endpoint_answers_a_version(
    version_probe: Probe, version_source: VersionSource, env: Environment, measure: Measure
) -> None:
    """The service says which version it runs.

    The version endpoint answers 200 with a non-empty version (its JSON field, header or
    meta tag)."""
    assert version_probe.response is not None, (
        f"{version_probe.label}: no response (env={env.name})"
    )
    assert version_probe.status == 200, (
        f"{version_probe.label} answered {version_probe.status}, expected 200 (env={env.name})"
    )
    version = version_in(version_probe.response, version_source)
    measure("version", version)

    assert version is not None, (
        f"{version_probe.label}: no {version_source.describe()} with a non-empty version"
        f" (env={env.name})"
    )
