"""The pytest command line of a gate run: `releasegate run` and the demo start pytest with it.

Stage names are accepted as the CLI writes them (`post-deploy`) and as markers (`post_deploy`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from releasegate.stages import STAGES

STAGE_NAMES = {s.replace("_", "-"): s for s in STAGES} | {s: s for s in STAGES}


def stage_marker(name: str) -> str:
    """The marker of a stage name; ValueError names the known stages."""
    try:
        return STAGE_NAMES[name]
    except KeyError:
        known = ", ".join(s.replace("_", "-") for s in STAGES)
        raise ValueError(f"unknown stage {name!r}; stages: {known}") from None


def stage_markers(names: Iterable[str]) -> list[str]:
    """The markers of the stage names, each once, in the order given."""
    return list(dict.fromkeys(stage_marker(name) for name in names))


def existing_stages(root: Path) -> list[str]:
    """Stages that have a suite folder with tests in it under `root/suites`."""
    return [s for s in STAGES if any((root / "suites" / s).glob("test_*.py"))]


def pytest_argv(
    suites: Path,
    markers: Iterable[str],
    *,
    env_file: Path,
    run_id: str,
    reports_dir: Path,
    base_url: str | None = None,
    release_version: str | None = None,
    workers: str | None = None,
    load_workers: int | None = None,
    reruns: int = 0,
) -> list[str]:
    """`python -m pytest SUITES -m "smoke or slo" --env=... --run-id ...`: one pytest run of
    the stages, its evidence under `reports_dir/run_id`. No cache: a gate run leaves no state
    that changes the next."""
    argv = [sys.executable, "-m", "pytest", str(suites), "-m", " or ".join(markers)]
    argv += [f"--env={env_file.resolve()}", "--run-id", run_id]
    argv += [f"--reports-dir={reports_dir.resolve()}", "-p", "no:cacheprovider"]
    if base_url:
        argv.append(f"--base-url={base_url}")
    if release_version:
        argv.append(f"--release-version={release_version}")
    if workers:
        argv += ["-n", workers]
    if load_workers is not None:
        argv.append(f"--load-workers={load_workers}")
    if reruns:
        argv += ["--reruns", str(reruns)]
    return argv
