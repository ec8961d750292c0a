"""Integration fixtures: the real reference service, and gate runs in a real pytest subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasegate.evidence.results import CheckResult, Results, read_results
from releasegate.target.process import ReferenceServiceProcess
from tests.tls_server import unused_port

ROOT = Path(__file__).resolve().parents[2]
# One gate run is a few seconds; a hung one fails here rather than stalling CI.
GATE_TIMEOUT_S = 120


def short_id(node_id: str) -> str:
    """`suites/smoke/test_x.py::test_y[/a/b]` -> `test_x.py::test_y[/a/b]`."""
    path, _, name = node_id.partition("::")
    return f"{Path(path).name}::{name}"


@dataclass
class GateRun:
    """A finished `pytest suites ...` subprocess and the evidence it left."""

    process: subprocess.CompletedProcess[str]
    run_dir: Path

    @property
    def output(self) -> str:
        return self.process.stdout + self.process.stderr

    @property
    def results(self) -> Results:
        return read_results(self.run_dir)

    def outcomes(self) -> dict[str, str]:
        """Short check id (`test_x.py::test_y[param]`) -> outcome."""
        return {short_id(c.id): c.outcome for c in self.results.checks}

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.results.checks if c.id.endswith(f"::{name}"))

    def problems(self) -> dict[str, str]:
        """Short check id -> message, for every check that did not pass."""
        return {short_id(c.id): c.message for c in self.results.checks if c.outcome != "passed"}


RunGate = Callable[..., GateRun]
StartService = Callable[..., ReferenceServiceProcess]


def gate_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean releasegate environment for a subprocess, made cheap to start: every gate run is
    a Python process importing ~1,200 modules, so bytecode caches are written and read (a machine
    may set PYTHONDONTWRITEBYTECODE; then pytest re-rewrites ~190 modules each run), and
    Hypothesis's pytest plugin is not loaded (1.4 s of imports per run; the contract checks use
    Hypothesis as a library, without its plugin)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASEGATE_", "PYTEST_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTEST_ADDOPTS"] = "-p no:hypothesispytest"
    env.update(extra or {})
    return env


def gate_argv(
    *args: str, reports: Path, run_id: str | None = None, marker: str = "smoke"
) -> list[str]:
    """`python -m pytest suites -m MARKER ...` writing its run under `reports`."""
    argv = [sys.executable, "-m", "pytest", "suites", "-m", marker, "-p", "no:cacheprovider"]
    argv.append(f"--reports-dir={reports}")
    if run_id:
        argv += ["--run-id", run_id]
    return [*argv, *args]


def releasegate_in_repo(envs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`releasegate ARGS...` from the repository root, its environments read from `envs`."""
    return run_in_repo([sys.executable, "-m", "releasegate", *args], RELEASEGATE_ENV_DIR=str(envs))


def run_in_repo(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root with a clean releasegate environment."""
    return subprocess.run(
        argv,
        cwd=ROOT,
        env=gate_env(env),
        capture_output=True,
        text=True,
        timeout=GATE_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def run_gate(tmp_path: Path) -> RunGate:
    """Run the gate suites in a pytest subprocess from the repository root; keep its evidence."""
    counter = iter(range(1000))

    def run(
        *args: str,
        env_vars: dict[str, str] | None = None,
        marker: str = "smoke",
    ) -> GateRun:
        run_id = f"test-run-{next(counter)}"
        argv = gate_argv(*args, reports=tmp_path / "reports", run_id=run_id, marker=marker)
        process = run_in_repo(argv, **(env_vars or {}))
        return GateRun(process, tmp_path / "reports" / run_id)

    return run


@pytest.fixture(scope="module")
def healthy_service() -> Iterator[ReferenceServiceProcess]:
    """A reference service with no faults, shared by a module's read-only checks."""
    with ReferenceServiceProcess() as service:
        yield service


@pytest.fixture(scope="session")
def healthy_smoke_run(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """One smoke run of every check (the browser's too) against a healthy reference service,
    read by the tests of what a healthy smoke run is and leaves (smoke and browser gates)."""
    reports = tmp_path_factory.mktemp("healthy-smoke") / "reports"
    with ReferenceServiceProcess() as service:
        argv = gate_argv(
            "--env", "local", "--base-url", service.base_url, reports=reports, run_id="healthy"
        )
        process = run_in_repo(argv)
    return GateRun(process, reports / "healthy")


@dataclass
class ClosedPortRun(GateRun):
    """A gate run against `url`, where nothing listens."""

    url: str = ""


@pytest.fixture(scope="session")
def closed_port_smoke_run(tmp_path_factory: pytest.TempPathFactory) -> ClosedPortRun:
    """One smoke run of every check against a loopback port where nothing listens, with no
    evidence that the target ever answered (smoke gate and `releasegate decide` tests)."""
    reports = tmp_path_factory.mktemp("closed-port") / "reports"
    url = f"http://127.0.0.1:{unused_port()}"  # not 9: Chromium refuses that port itself
    argv = gate_argv("--env", "local", "--base-url", url, reports=reports, run_id="closed")
    return ClosedPortRun(run_in_repo(argv), reports / "closed", url)


@pytest.fixture
def start_service() -> Iterator[StartService]:
    """Start a reference service with faults; every one started is stopped at the end."""
    started: list[ReferenceServiceProcess] = []

    def start(*faults: str, **kwargs: object) -> ReferenceServiceProcess:
        service = ReferenceServiceProcess(faults=list(faults), **kwargs)  # type: ignore[arg-type]
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def write_env(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path
