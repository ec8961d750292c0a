"""Pre-deploy: no secret is committed to the source tree (detect-secrets, with its baseline)."""

import pytest

from releasegate.checks.secret_scan import scan_tree
from releasegate.checks.secret_scan_cache import default_cache_dir
from releasegate.config import Environment
from releasegate.pytest_plugin.fixtures import Expect, Measure

SHOWN = 10


def test_no_secret_is_committed(env: Environment, measure: Measure, expect: Expect) -> None:
    """No secret is committed to the repository.

    detect-secrets finds nothing new under `[secret_scan] root`; each finding is named by
    file, line and kind, never by its value."""
    config = env.model.secret_scan
    if not config.enabled:
        pytest.skip(f"[secret_scan] enabled = false for env={env.name}")
    root = env.repository_path(config.root)
    baseline = root / config.baseline if config.baseline else None
    result = scan_tree(
        root,
        baseline=baseline if baseline is not None and baseline.is_file() else None,
        exclude=config.exclude,
        max_files=config.max_files,
        cache_dir=default_cache_dir() if config.cache else None,
    )
    if result.files_rescanned < result.files_scanned:
        measure(
            "files unchanged since the last scan", result.files_scanned - result.files_rescanned
        )
    if result.suppressed:
        measure("known to the baseline", result.suppressed)
    listed = "; ".join(f"{f.path}:{f.line} ({f.kind})" for f in result.findings[:SHOWN])
    more = f"; and {len(result.findings) - SHOWN} more" if len(result.findings) > SHOWN else ""

    expect(
        "secrets found",
        len(result.findings),
        "<=",
        0,
        samples=result.files_scanned,
        context=f"env={env.name}",
        message=f"{len(result.findings)} possible secrets committed under {result.root}:"
        f" {listed}{more}. Move them to the environment; a false positive goes into the"
        f" baseline (detect-secrets scan > {config.baseline})",
    )
