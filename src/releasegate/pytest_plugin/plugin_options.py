"""The plugin's command-line options, in their own group (`pytest --help`: "releasegate
deployment gates"), with defaults from the environment variables CI sets."""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path

import pytest

from releasegate.config import ENV_VAR


def _base_url_provided_elsewhere(pluginmanager: pytest.PytestPluginManager) -> bool:
    """pytest-playwright defines --base-url (through pytest-base-url, or a fallback of its own
    added after this hook, which would clash with ours) unless it is disabled (`-p no:...`)."""
    return any(
        importlib.util.find_spec(module) is not None and not pluginmanager.is_blocked(name)
        for module, name in (("pytest_playwright", "playwright"), ("pytest_base_url", "base_url"))
    )


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("releasegate", "releasegate deployment gates")
    group.addoption(
        "--env",
        dest="releasegate_env",
        default=os.environ.get(ENV_VAR),
        metavar="NAME",
        help=f"environment to gate: environments/NAME.toml or a path to a .toml (or ${ENV_VAR})",
    )
    if not _base_url_provided_elsewhere(pluginmanager):
        with contextlib.suppress(ValueError):
            group.addoption(
                "--base-url", dest="base_url", metavar="URL", help="override the target's base URL"
            )
    group.addoption(
        "--release-version",
        dest="releasegate_release_version",
        metavar="V",
        default=os.environ.get("RELEASEGATE_RELEASE_VERSION"),
        help="the version this deploy is expected to run (recorded, checked by post-deploy)",
    )
    group.addoption("--run-id", dest="releasegate_run_id", metavar="ID", help="name this run")
    group.addoption(
        "--load-workers",
        dest="releasegate_load_workers",
        type=int,
        metavar="N",
        default=None,
        help="load gate: N Locust workers under a local master (default: [load] workers)",
    )
    group.addoption(
        "--bundled-gates",
        dest="releasegate_bundled_gates",
        choices=("auto", "yes", "no"),
        default=os.environ.get("RELEASEGATE_BUNDLED_GATES", "auto"),
        help="collect the gates releasegate ships with an environment chosen: auto (when no"
        " test path is named), yes (also beside named paths) or no",
    )
    group.addoption(
        "--reports-dir",
        dest="releasegate_reports_dir",
        metavar="DIR",
        default=os.environ.get("RELEASEGATE_REPORTS_DIR"),
        help="where runs are written (default: reports/ under the rootdir)",
    )


def check_rootdir_not_misled(config: pytest.Config) -> None:
    """pytest picks its rootdir before plugins add options, so in `--reports-dir /tmp/x` it
    takes /tmp/x for a test path and roots the session there. Say so instead of running the
    wrong tests with no configuration."""
    if config.inipath is not None:
        return
    args = list(config.invocation_params.args)
    for option in ("--reports-dir", "--env"):
        if option in args[:-1]:
            value = Path(args[args.index(option) + 1]).resolve()
            if value.exists() and config.rootpath in (value, value.parent):
                raise pytest.UsageError(
                    f"releasegate: pytest took the value of {option} for a test path and found"
                    f" no configuration under {config.rootpath}; write {option}={value}"
                )
