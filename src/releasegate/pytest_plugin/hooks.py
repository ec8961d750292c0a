"""Hooks: options, markers, choosing the environment, classifying and redacting reports.

Everything stateful that writes files lives on the xdist controller (or the only process when
xdist is off): see `evidence_writer.EvidenceWriter`. Workers classify and redact their own
reports, because only they hold the exception; the controller merges what they send.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
from collections.abc import Callable, Generator
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
from releasegate.errors import ConfigError, EvidenceMissing, EvidenceStale, TargetUnreachable
from releasegate.evidence.policy import lint, lint_errors
from releasegate.evidence.results import (
    CAUSE_INCONCLUSIVE,
    CAUSE_PRODUCT,
    CAUSE_STALE,
    CAUSE_UNREACHABLE,
    stages_in_markexpr,
)
from releasegate.evidence.runs import check_run_id, new_run_id, point_latest
from releasegate.pytest_plugin._keys import (
    ARTEFACTS,
    ARTEFACTS_SENT,
    GATE_RUN,
    MEASUREMENTS,
    MEASUREMENTS_SENT,
    GateRun,
)
from releasegate.pytest_plugin.attachments import attach
from releasegate.pytest_plugin.evidence_writer import EvidenceWriter
from releasegate.stages import DESCRIPTIONS, STAGES

if TYPE_CHECKING:
    from releasegate.target.process import ReferenceServiceProcess
    from releasegate.target.prometheus_server import PrometheusServer

_SERVICE: pytest.StashKey[ReferenceServiceProcess] = pytest.StashKey()
_PROMETHEUS: pytest.StashKey[PrometheusServer] = pytest.StashKey()
_MESSAGE_LIMIT = 600


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
        "--reports-dir",
        dest="releasegate_reports_dir",
        metavar="DIR",
        default=os.environ.get("RELEASEGATE_REPORTS_DIR"),
        help="where runs are written (default: reports/ under the rootdir)",
    )


def _check_rootdir_not_misled(config: pytest.Config) -> None:
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


def _start_reference_service(config: pytest.Config, env: Environment) -> str:
    from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess

    ref = env.model.reference
    try:
        service = ReferenceServiceProcess(
            host=ref.host,
            faults=list(ref.faults),
            database_url=ref.database_url,
            api_token=ref.api_token,
            service_version=ref.service_version,
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
    second, for the SLO gate's metrics checks. (URL, notes for the run's header.)"""
    from urllib.parse import urlsplit

    if not env.model.reference.prometheus or urlsplit(base_url).hostname not in _LOOPBACK:
        return None, []
    markexpr = str(config.getoption("markexpr") or "")
    if markexpr and "slo" not in stages_in_markexpr(markexpr):
        return None, []  # only the SLO gate reads it
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

    _check_rootdir_not_misled(config)
    env = _choose_environment(config)
    if env is None:
        return
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
        base_url = _start_reference_service(config, env)
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
    )
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


def _stage_of(item: pytest.Item) -> str | None:
    return next((m.name for m in item.iter_markers() if m.name in STAGES), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash.get(GATE_RUN, None) is None and any(_stage_of(i) for i in items):
        directory = environments_dir(config.rootpath)
        known = ", ".join(known_environments(directory)) or "none found"
        raise pytest.UsageError(
            f"releasegate: gate tests were collected but no environment was chosen;"
            f" pass --env NAME (or {ENV_VAR}); known: {known}"
        )


def pytest_runtest_setup(item: pytest.Item) -> None:
    run = item.config.stash.get(GATE_RUN, None)
    if run is None:
        return
    if item.config.pluginmanager.has_plugin("allure_listener"):
        import allure

        # Allure groups by suite: the environment, then the stage
        allure.dynamic.parent_suite(f"env {run.env.name}")
        allure.dynamic.suite(_stage_of(item) or "unstaged")
    if run.env.read_only and item.get_closest_marker("writes"):
        pytest.skip(
            f"writes to the target, and env={run.env.name} is read-only"
            " (set [target] read_only = false in its file to allow)"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        measurements = item.stash.get(MEASUREMENTS, [])
        run = item.config.stash.get(GATE_RUN, None)
        if run and measurements and item.config.pluginmanager.has_plugin("allure_listener"):
            import allure

            text = run.redactor.redact(json.dumps(measurements, indent=2))
            allure.attach(text, "measurements", allure.attachment_type.JSON)


def _message(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    if report.passed:
        return ""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if call.excinfo is None:
        return str(report.longrepr or "")[:_MESSAGE_LIMIT]
    value = call.excinfo.value
    text = str(value).split("\nassert ")[0].strip()
    if not isinstance(value, AssertionError) or not text:
        text = f"{call.excinfo.typename}: {text}" if text else call.excinfo.exconly()
    return " ".join(text.split())[:_MESSAGE_LIMIT]


def _cause(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str | None:
    if not report.failed or call.excinfo is None:
        return None
    value = call.excinfo.value
    if isinstance(value, TargetUnreachable):
        return CAUSE_UNREACHABLE  # in any phase: a fixture that fetched may have found it
    if isinstance(value, EvidenceStale):
        return CAUSE_STALE
    if isinstance(value, EvidenceMissing):
        return CAUSE_INCONCLUSIVE
    if isinstance(value, AssertionError | pytest.fail.Exception):
        return CAUSE_PRODUCT
    return CAUSE_INCONCLUSIVE  # any other exception: the gate itself broke, nothing was judged


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    run = item.config.stash.get(GATE_RUN, None)
    if run is None:
        return report
    redact = run.redactor.redact
    measurements = item.stash.get(MEASUREMENTS, [])
    sent = item.stash.get(MEASUREMENTS_SENT, 0)
    item.stash[MEASUREMENTS_SENT] = len(measurements)
    artefacts = item.stash.get(ARTEFACTS, [])
    new_artefacts = artefacts[item.stash.get(ARTEFACTS_SENT, 0) :]
    item.stash[ARTEFACTS_SENT] = len(artefacts)
    attach(item, report, new_artefacts, run.run_dir)
    # plain JSON types only: xdist serialises report attributes to send them to the controller
    report.releasegate = {  # type: ignore[attr-defined]
        "stage": _stage_of(item),
        "blocking": item.get_closest_marker("advisory") is None,
        "cause": _cause(report, call),
        "message": redact(_message(report, call)),
        "measurements": [_redact_values(m, redact) for m in measurements[sent:]],
        "artefacts": [a.path for a in new_artefacts],
    }
    if run.redactor and run.redactor.contains_secret(str(report.longrepr or "")):
        report.longrepr = _redact_repr(report.longrepr, redact)
    report.sections = [(title, redact(text)) for title, text in report.sections]
    return report


def _redact_repr(value: Any, redact: Callable[[str], str]) -> Any:
    """Mask secrets inside pytest's structured failure representation, in place, keeping its
    shape (so the terminal still shows sources, arguments and the crash line as usual)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        value[:] = [_redact_repr(v, redact) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(_redact_repr(v, redact) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            setattr(value, f.name, _redact_repr(getattr(value, f.name), redact))
    return value


def _redact_values(measurement: dict[str, Any], redact: Any) -> dict[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in measurement.items()}


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """A check that could not measure reads as ERROR, not FAILED, in the terminal too."""
    data = getattr(report, "releasegate", None)
    inconclusive = (CAUSE_INCONCLUSIVE, CAUSE_UNREACHABLE, CAUSE_STALE)
    if report.when == "call" and report.failed and data and data["cause"] in inconclusive:
        return "error", "E", "ERROR"
    return None
