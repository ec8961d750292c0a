from pathlib import Path

import pytest

from releasegate.checks.security_headers import CHECKS
from releasegate.pytest_plugin import current_run, mark_folder


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
