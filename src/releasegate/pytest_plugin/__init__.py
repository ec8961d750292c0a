"""The releasegate pytest plugin: `--env`, stage markers, fixtures, evidence under reports/.

Load it from your repository's root conftest.py:

    pytest_plugins = ["releasegate.pytest_plugin"]

It stays inert (adds options, nothing else) unless an environment is chosen with `--env` or
`RELEASEGATE_ENV`, so a repository's own unit tests are not affected by it.
"""

from pathlib import Path

import pytest

from releasegate.browser.artefacts import Artefact
from releasegate.pytest_plugin._keys import ARTEFACTS, GATE_RUN, GateRun

# one module per job: options, the gate run's configuration, its checks' order, classifying and
# attaching to reports (redaction is called from the classification), the fixtures (the run's;
# the target's health and version; the API contract; the SLO gate's samples), which a team's
# own checks use as the bundled gates do; the team's [[metrics]] and [[logs]] checks
pytest_plugins = [
    "releasegate.pytest_plugin.plugin_options",
    "releasegate.pytest_plugin.gate_setup",
    "releasegate.pytest_plugin.bundled_collection",
    "releasegate.pytest_plugin.run_order",
    "releasegate.pytest_plugin.report_classification",
    "releasegate.pytest_plugin.attachments",
    "releasegate.pytest_plugin.fixtures",
    "releasegate.pytest_plugin.target_fixtures",
    "releasegate.pytest_plugin.api_contract_fixtures",
    "releasegate.pytest_plugin.slo_fixtures",
    "releasegate.pytest_plugin.metric_checks",
]


def current_run(config: pytest.Config) -> GateRun | None:
    """The gate run of this pytest process, or None when no environment was chosen."""
    return config.stash.get(GATE_RUN, None)


def mark_folder(items: list[pytest.Item], folder: str | Path, marker: str) -> None:
    """Give every collected test under `folder` the stage `marker` (a suite marks itself).

    Call it from the suite folder's conftest.py in a `tryfirst` `pytest_collection_modifyitems`,
    so the marks exist before `-m` deselects.
    """
    root = Path(folder).resolve()
    for item in items:
        if root in item.path.resolve().parents:
            item.add_marker(getattr(pytest.mark, marker))


def add_artefacts(item: pytest.Item, run: GateRun, files: list[tuple[str, Path]]) -> None:
    """List files already in the run folder (a load report, say) as this check's artefacts:
    in results.json, linked from report.html, attached in Allure, on the report site."""
    kept = item.stash.setdefault(ARTEFACTS, [])
    for kind, path in files:
        relative = path.resolve().relative_to(run.run_dir).as_posix()
        if all(a.path != relative for a in kept):
            kept.append(Artefact(kind, relative))


__all__ = ["GateRun", "add_artefacts", "current_run", "mark_folder"]
