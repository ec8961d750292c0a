"""Configuration of a gate run: the markers, choosing the environment (a usage error when gate
suites are collected without one), starting the reference service and the bundled Prometheus,
pointing junit, pytest-html and Allure into the run's folder, registering the browser fixtures,
and skipping checks that write on a read-only environment.

Everything stateful that writes files lives on the xdist controller (or the only process when
xdist is off): see `evidence_writer.EvidenceWriter`. A worker rebuilds the run from what the
controller hands it (`pytest_configure_node`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from releasegate import __version__
from releasegate.config import (
    ENV_VAR,
    Environment,
    environments_dir,
    known_environments,
    load_environment,
)
from releasegate.errors import ConfigError
from releasegate.evidence.policy import lint, lint_errors
from releasegate.evidence.results import stages_in_markexpr
from releasegate.evidence.runs import REFERENCE_LOG, check_run_id, new_run_id, point_latest
from releasegate.pytest_plugin._keys import GATE_RUN, TITLE, GateRun
from releasegate.pytest_plugin.bundled_collection import bundled_suites_to_collect
from releasegate.pytest_plugin.evidence_writer import EvidenceWriter
from releasegate.pytest_plugin.plugin_options import check_rootdir_not_misled
from releasegate.pytest_plugin.report_classification import stage_of, title_of
from releasegate.stages import DESCRIPTIONS

if TYPE_CHECKING:
    from releasegate.target.process import ReferenceServiceProcess
    from releasegate.target.prometheus_server import PrometheusServer

_SERVICE: pytest.StashKey[ReferenceServiceProcess] = pytest.StashKey()
_PROMETHEUS: pytest.StashKey[PrometheusServer] = pytest.StashKey()


def _gate_suites_requested(config: pytest.Config) -> bool:
    """Whether this invocation collects the gate suites (under <rootdir>/suites)."""
    suites = (config.rootpath / "suites").resolve()
    if not suites.is_dir():
        return False
    invocation = config.invocation_params.dir
    for arg in config.args:
        path = (invocation / arg.split("::")[0]).resolve()
        if path == suites or suites in path.parents or path in suites.parents:
            return True
    return False


def _choose_environment(config: pytest.Config) -> Environment | None:
    name = config.getoption("releasegate_env")
    directory = environments_dir(config.rootpath)
    if not name:
        if _gate_suites_requested(config):
            known = ", ".join(known_environments(directory)) or "none found"
            raise pytest.UsageError(
                f"releasegate: choose the environment to gate with --env NAME (or {ENV_VAR});"
                f" known: {known}"
            )
        return None
    try:
        return load_environment(name, directory)
    except ConfigError as exc:
        raise pytest.UsageError(f"releasegate: {exc}") from None


def _start_reference_service(config: pytest.Config, env: Environment, run_dir: Path) -> str:
    from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess

    ref = env.model.reference
    try:
        service = ReferenceServiceProcess(
            host=ref.host,
            faults=list(ref.faults),
            database_url=ref.database_url,
            api_token=ref.api_token,
            service_version=ref.service_version,
            # its log, with the run's evidence (the local environment's [[logs]] reads it)
            log_file=run_dir / REFERENCE_LOG,
        )
        service.start()
    except ReferenceServiceError as exc:
        raise pytest.UsageError(f"releasegate: cannot start the reference service: {exc}") from None
    config.stash[_SERVICE] = service
    return str(service.base_url)


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _start_bundled_prometheus(
    config: pytest.Config, env: Environment, base_url: str
) -> tuple[str | None, list[str]]:
    """`[reference] prometheus = true` and a loopback target: a Prometheus scraping it every
    second, for the SLO gate's metrics checks: the one `$RELEASEGATE_REFERENCE_PROMETHEUS`
    names (the demo's, left running), else one started now. (URL, notes for the run's
    header.)"""
    from urllib.parse import urlsplit

    from releasegate.target.prometheus_server import REFERENCE_PROMETHEUS_VAR

    if not env.model.reference.prometheus or urlsplit(base_url).hostname not in _LOOPBACK:
        return None, []
    markexpr = str(config.getoption("markexpr") or "")
    # the SLO gate reads it, and [[metrics]] of Prometheus without a URL of their own
    readers = {"slo"} | {
        stage
        for metric in env.model.metrics
        if metric.provider == "prometheus" and metric.url is None
        for stage in metric.stage
    }
    if markexpr and not readers & set(stages_in_markexpr(markexpr)):
        return None, []
    given = os.environ.get(REFERENCE_PROMETHEUS_VAR)
    if given:
        return given, []
    from releasegate.target.prometheus_server import PrometheusServer

    server = PrometheusServer(base_url)
    try:
        server.start()
    except RuntimeError as exc:
        return None, [f"no Prometheus beside the reference service: {exc}"]
    config.stash[_PROMETHEUS] = server
    return server.url, []


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker, text in DESCRIPTIONS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    config.addinivalue_line("markers", "writes: changes data; skipped on read-only environments")
    config.addinivalue_line("markers", "advisory: measured and shown, never blocks the decision")
    config.addinivalue_line(
        "markers", "flow(name): a browser journey; runs where [browser] flows lists it"
    )
    config.addinivalue_line("markers", "browser: set on every check that drives a browser")

    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        if "releasegate" in workerinput:
            _configure_worker(config, workerinput["releasegate"])
        return

    check_rootdir_not_misled(config)
    env = _choose_environment(config)
    if env is None:
        return
    bundled = bundled_suites_to_collect(config, _gate_suites_requested(config))
    if bundled is not None:
        config.args.append(str(bundled))
    run_id = config.getoption("releasegate_run_id") or new_run_id(env.name)
    try:
        check_run_id(run_id)
    except ValueError as exc:
        raise pytest.UsageError(f"releasegate: --run-id: {exc}") from None
    reports_dir = Path(config.getoption("releasegate_reports_dir") or config.rootpath / "reports")
    override = config.getoption("base_url", None)
    try:
        base_url = env.base_url(override)
    except ValueError as exc:
        raise pytest.UsageError(f"releasegate: --base-url {exc}") from None
    if base_url is None:
        base_url = _start_reference_service(config, env, (reports_dir / run_id).resolve())
    prometheus_url, prometheus_note = _start_bundled_prometheus(config, env, base_url)
    run = GateRun(
        env=env,
        base_url=base_url,
        run_id=run_id,
        run_dir=(reports_dir / run_id).resolve(),
        reports_dir=reports_dir.resolve(),
        release_version=config.getoption("releasegate_release_version"),
        redactor=env.redactor,
        controller=True,
        notes=[
            *env.warnings,
            *lint(env),
            *(f"{error} (this run will not say GO)" for error in lint_errors(env)),
            *prometheus_note,
        ],
        prometheus_url=prometheus_url,
        bundled_suites=None if bundled is None else str(bundled),
    )
    config.stash[GATE_RUN] = run
    run.run_dir.mkdir(parents=True, exist_ok=True)
    point_latest(run.reports_dir, run_id)
    _route_reports(config, run.run_dir)
    _register_browser(config, run)
    config.pluginmanager.register(EvidenceWriter(config, run), "releasegate-evidence")


def _configure_worker(config: pytest.Config, data: dict[str, Any]) -> None:
    env = load_environment(data["env"])
    run = GateRun(
        env=env,
        base_url=data["base_url"],
        run_id=data["run_id"],
        run_dir=Path(data["run_dir"]),
        reports_dir=Path(data["reports_dir"]),
        release_version=data["release_version"],
        redactor=env.redactor,
        controller=False,
        prometheus_url=data.get("prometheus_url"),
        bundled_suites=data.get("bundled_suites"),
    )
    # the controller added them to its collection: so do its workers
    if run.bundled_suites is not None and run.bundled_suites not in config.args:
        config.args.append(run.bundled_suites)
    config.stash[GATE_RUN] = run
    _route_reports(config, run.run_dir)
    _register_browser(config, run)


def _register_browser(config: pytest.Config, run: GateRun) -> None:
    """pytest-playwright's `base_url` fixture reads the option: point it at the target (the
    started reference service too). Then the browser fixtures, registered after every
    entry-point plugin so they take precedence over pytest-playwright's own."""
    config.option.base_url = run.base_url
    if config.pluginmanager.has_plugin("playwright"):
        from releasegate.pytest_plugin import browser_fixtures

        if not config.pluginmanager.has_plugin(browser_fixtures.PLUGIN_NAME):
            config.pluginmanager.register(browser_fixtures, browser_fixtures.PLUGIN_NAME)


def _route_reports(config: pytest.Config, run_dir: Path) -> None:
    """Point junit, pytest-html and Allure into the run's folder unless the user chose a place."""
    option = config.option
    if not getattr(option, "xmlpath", None):
        option.xmlpath = str(run_dir / "junit.xml")
    if hasattr(option, "htmlpath") and not option.htmlpath:
        option.htmlpath = str(run_dir / "report.html")
        option.self_contained_html = True
    if hasattr(option, "allure_report_dir") and not option.allure_report_dir:
        option.allure_report_dir = str(run_dir / "allure-results")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand each worker the run (the environment file, the URL of a started service)."""
    run = node.config.stash.get(GATE_RUN, None)
    if run is not None:
        node.workerinput["releasegate"] = run.to_workerinput()


def pytest_unconfigure(config: pytest.Config) -> None:
    prometheus = config.stash.get(_PROMETHEUS, None)
    if prometheus is not None:
        prometheus.stop()
    service = config.stash.get(_SERVICE, None)
    if service is not None:
        service.stop()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    run = config.stash.get(GATE_RUN, None)
    if run is None:
        return None
    lines = [
        f"releasegate {__version__}: env={run.env.name} target={run.redactor.redact(run.base_url)}"
        f" read_only={run.env.read_only}",
        f"releasegate run {run.run_id}: evidence in {run.run_dir}",
    ]
    return lines + [f"releasegate warning: {note}" for note in run.notes]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash.get(GATE_RUN, None) is None and any(stage_of(i) for i in items):
        directory = environments_dir(config.rootpath)
        known = ", ".join(known_environments(directory)) or "none found"
        raise pytest.UsageError(
            f"releasegate: gate tests were collected but no environment was chosen;"
            f" pass --env NAME (or {ENV_VAR}); known: {known}"
        )


def pytest_runtest_call(item: pytest.Item) -> None:
    run = item.config.stash.get(GATE_RUN, None)
    if run is None or not item.config.pluginmanager.has_plugin("allure_listener"):
        return
    import allure

    # the check's title in plain words, as everywhere else a person reads; in the call phase,
    # because Allure names the test itself after setup (a check skipped in setup keeps that name)
    allure.dynamic.title(run.redactor.redact(item.stash.get(TITLE, None) or title_of(item)))


def pytest_runtest_setup(item: pytest.Item) -> None:
    run = item.config.stash.get(GATE_RUN, None)
    if run is None:
        return
    if item.config.pluginmanager.has_plugin("allure_listener"):
        import allure

        # Allure groups by suite: the environment, then the stage
        allure.dynamic.parent_suite(f"env {run.env.name}")
        allure.dynamic.suite(stage_of(item) or "unstaged")
    if run.env.read_only and item.get_closest_marker("writes"):
        pytest.skip(
            f"writes to the target, and env={run.env.name} is read-only"
            " (set [target] read_only = false in its file to allow)"
        )
