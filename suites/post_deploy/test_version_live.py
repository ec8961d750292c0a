"""Post-deploy: the release is what runs, on every instance."""

from dataclasses import replace

import httpx
import pytest

from releasegate.checks.release_version import (
    InstanceVersion,
    VersionSource,
    describe,
    disagreeing,
    read_version,
    unreachable_instances,
)
from releasegate.config import Environment
from releasegate.errors import EvidenceMissing, TargetUnreachable
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Expect


@pytest.fixture(scope="module")
def instance_versions(
    gate_run: GateRun, env: Environment, version_source: VersionSource
) -> list[InstanceVersion]:
    """What each instance (`[post_deploy] instances`, default the target) says it runs; an
    instance that cannot be reached at all is missing evidence, not a wrong version."""
    key = env.model.post_deploy.version_key
    source = replace(version_source, key=key) if key else version_source
    instances = env.model.post_deploy.instances or [gate_run.base_url]
    with httpx.Client(
        headers=dict(env.target.headers), verify=env.target.verify_tls, follow_redirects=False
    ) as client:
        answers = [read_version(client, url, source, env.target.timeout) for url in instances]
    lost = unreachable_instances(answers)
    if lost is not None:
        raise TargetUnreachable(gate_run.redactor.redact(f"{lost} (env={env.name})"))
    if all(a.version is None for a in answers):
        raise EvidenceMissing(
            gate_run.redactor.redact(f"no instance said which version it runs: {describe(answers)}")
        )
    return answers


def test_release_version_is_live_on_every_instance(
    instance_versions: list[InstanceVersion],
    release_version: str | None,
    env: Environment,
    expect: Expect,
) -> None:
    """The expected release version is live on every instance.

    Every instance runs `--release-version` (or `[post_deploy] release_version`)."""
    expected = release_version or env.model.post_deploy.release_version
    if not expected:
        pytest.skip("no expected version: pass --release-version or set [post_deploy]")
    wrong = disagreeing(expected, instance_versions)

    expect(
        "instances on the release",
        len(instance_versions) - len(wrong),
        ">=",
        len(instance_versions),
        context=f"env={env.name}",
        message=f"{len(wrong)} of {len(instance_versions)} instances do not run {expected}:"
        f" {describe(wrong)}",
    )


def test_every_instance_runs_the_same_version(
    instance_versions: list[InstanceVersion], env: Environment, expect: Expect
) -> None:
    """Every instance runs the same version.

    No instance is left behind on another version (a half-finished rollout)."""
    versions = sorted({a.version or "(no answer)" for a in instance_versions})

    expect(
        "versions live",
        len(versions),
        "<=",
        1,
        context=f"env={env.name}",
        message=f"{len(versions)} versions live: {describe(instance_versions)}",
    )
