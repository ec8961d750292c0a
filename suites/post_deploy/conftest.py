import shutil
from pathlib import Path

import pytest

from releasegate.checks.security_audit import rule_checks
from releasegate.checks.security_headers import CHECKS
from releasegate.config import Environment
from releasegate.errors import EvidenceMissing, EvidenceStale
from releasegate.ops.watch import TIMELINE_FILE, Timeline, find_timeline
from releasegate.pytest_plugin import GateRun, current_run, mark_folder


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "post_deploy")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One check per security header and path (`csp /`), and one per cached page; ids pass
    through the environment's redactor (a path may hold a ${VAR} secret)."""
    run = current_run(metafunc.config)
    if run is None:
        return
    model = run.env.model
    if "header_check" in metafunc.fixturenames:
        wanted = [c for c in CHECKS if c not in model.headers.skip]
        metafunc.parametrize(
            "header_check,header_path",
            [
                pytest.param(c, p, id=run.redactor.redact(f"{c} {p}"))
                for p in model.headers.paths
                for c in wanted
            ],
        )
    if "cache_path" in metafunc.fixturenames:
        paths = model.cache.paths
        metafunc.parametrize(
            "cache_path",
            [pytest.param(p, id=run.redactor.redact(p)) for p in paths]
            or [pytest.param(None, id="no-cache-paths")],
        )
    if "security_check" in metafunc.fixturenames:
        # one check per rule of the passive audit; an advisory rule's check is marked advisory
        security = model.security
        checks = rule_checks(security.rules) if security.enabled else []
        metafunc.parametrize(
            "security_check",
            [
                pytest.param(c, id=c.id, marks=() if c.blocking else (pytest.mark.advisory,))
                for c in checks
            ]
            or [pytest.param(None, id="security-audit-off")],
        )


@pytest.fixture(scope="session")
def timeline(gate_run: GateRun, env: Environment) -> Timeline:
    """The newest watch timeline of this environment and target, ended (by its own clock) within
    `[watch] max_age`, copied into this run for the report. Without one the check is skipped,
    or missing evidence with `[watch] required = true`; a timeline of another target or too old
    is named, with why, as stale evidence."""
    config = env.model.watch
    search = find_timeline(
        env.name,
        gate_run.reports_dir,
        target=gate_run.base_url,
        max_age_s=config.max_age,
        redactor=gate_run.redactor,
    )
    if search.path is None or search.timeline is None:
        why = (
            f"{search.why_none(config.max_age)}: deploy with `releasegate watch --env"
            f" {env.name} -- DEPLOY_COMMAND`"
        )
        if search.rejected:
            why = f"evidence-stale: {why}"
        why = gate_run.redactor.redact(why)
        if config.required:
            raise EvidenceStale(why) if search.rejected else EvidenceMissing(why)
        pytest.skip(why)
    if search.path.parent != gate_run.run_dir:
        shutil.copyfile(search.path, gate_run.run_dir / TIMELINE_FILE)
    return search.timeline
