"""Pre-deploy: the release is written up for the people who run it (docs/release-hygiene.md).

Collected only where the environment sets `[release] changelog` (suites/pre_deploy/conftest.py
deselects it elsewhere)."""

import pytest

from releasegate.checks.changelog import judge_changelog_file
from releasegate.config import Environment
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_changelog_has_an_entry_for_the_release(
    release_version: str | None, env: Environment, measure: Measure, expect: Expect
) -> None:
    """The changelog has an entry for this release.

    `[release] changelog` has an entry for `--release-version` (or `[post_deploy]
    release_version`) with something under it; a changelog that is missing fails too."""
    changelog = env.model.release.changelog
    if not changelog:
        pytest.skip(f"no [release] changelog for env={env.name}")
    release = release_version or env.model.post_deploy.release_version
    if not release:
        pytest.skip("no release version: pass --release-version or set [post_deploy]")
    judged = judge_changelog_file(env.repository_path(changelog), release, shown=changelog)
    measure("changelog entry", judged.measured if isinstance(judged.measured, str) else None)

    expect.judged(judged, context=f"env={env.name}")
