"""The gates travel with the package: the wheel built from this checkout, installed into a fresh
virtualenv in a temporary folder with no checkout around it, runs the smoke gate of an
application's own repository (`pytest -m smoke --env=NAME`, `releasegate run`), with the
team's own check beside the bundled ones, named as in a checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import ROOT

UV = Path(sys.executable).parent / "uv"

APP_ENV = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer ${{APP_TOKEN}}" }}

[openapi]
url = "/openapi.json"
max_examples = 3

[[endpoints]]
path = "/api/tickets"
expect_text = "tickets"

[[pages]]
path = "/login"
expect_text = "Sign in"

[browser]
enabled = false
"""

OWN_CHECK = '''
import pytest


@pytest.mark.smoke
def test_the_dashboard_answers(http):
    """A team's own check, with the plugin's fixtures."""
    assert http.get("/dashboard").status == 200
'''


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RELEASEGATE_", "PYTEST_"))}
    clean.pop("PYTHONPATH", None)
    return subprocess.run(
        argv,
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel of this checkout installed (pinned by constraints.txt)."""
    if not UV.is_file():
        pytest.skip("uv is not installed beside this Python (./dev setup installs it)")
    folder = tmp_path_factory.mktemp("installed")
    # the sdist first, then the wheel from it (what an index would serve): nothing from a build/
    # folder of the checkout can slip in, and the sdist is proven to carry the gates
    built = _run([str(UV), "build", "--out-dir", str(folder / "dist"), str(ROOT)], ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = (folder / "dist").glob("releasegate-*.whl")
    venv = folder / "venv"
    made = _run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], folder)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    pinned = ["-c", str(ROOT / "constraints.txt")]
    done = _run(
        [str(UV), "pip", "install", "-q", "--python", str(python), *pinned, str(wheel)], folder
    )
    assert done.returncode == 0, done.stderr
    return venv


@pytest.fixture
def app_repository(tmp_path: Path) -> Iterator[tuple[Path, ReferenceServiceProcess]]:
    """An application's repository: an environment file and a check of its own, nothing else;
    the application is the reference service, run as any other web application would be."""
    with ReferenceServiceProcess(api_token="app-token-for-the-installed-test") as service:
        (tmp_path / "environments").mkdir()
        (tmp_path / "environments" / "app.toml").write_text(APP_ENV.format(url=service.base_url))
        (tmp_path / "checks").mkdir()
        (tmp_path / "checks" / "test_own.py").write_text(OWN_CHECK)
        yield tmp_path, service


def test_the_wheel_carries_the_gates(installed: Path) -> None:
    gates = next((installed / "lib").glob("python3*/site-packages/releasegate/gates/suites"))

    assert sorted(p.name for p in gates.iterdir() if p.is_dir() and p.name != "__pycache__") == [
        "load",
        "post_deploy",
        "pre_deploy",
        "slo",
        "smoke",
    ]
    assert (gates / "smoke" / "test_health.py").is_file()


def test_pytest_runs_the_bundled_smoke_gate_and_the_teams_own_check(
    installed: Path, app_repository: tuple[Path, ReferenceServiceProcess]
) -> None:
    repository, _ = app_repository

    ran = _run(
        [str(installed / "bin" / "pytest"), "-m", "smoke", "--env=app", "-p", "no:cacheprovider"],
        repository,
        APP_TOKEN="app-token-for-the-installed-test",
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((repository / "reports" / "latest" / "results.json").read_text())
    outcomes = {c["id"]: c["outcome"] for c in results["checks"]}
    assert outcomes["suites/smoke/test_health.py::test_health_status_is_healthy"] == "passed"
    assert outcomes["suites/smoke/test_endpoints.py::test_endpoint[GET /api/tickets]"] == "passed"
    assert outcomes["suites/smoke/test_api_contract.py::test_api_contract[GET /api/tickets]"] == (
        "passed"
    )
    assert outcomes["checks/test_own.py::test_the_dashboard_answers"] == "passed"
    assert "verdict: GO" in ran.stdout


def test_releasegate_run_decides_with_the_bundled_gates(
    installed: Path, app_repository: tuple[Path, ReferenceServiceProcess]
) -> None:
    repository, _ = app_repository

    ran = _run(
        [str(installed / "bin" / "releasegate"), "run", "--env", "app", "--stage", "smoke"],
        repository,
        APP_TOKEN="app-token-for-the-installed-test",
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    decision = json.loads((repository / "reports" / "latest" / "decision.json").read_text())
    assert decision["verdict"] == "GO"
    results = json.loads((repository / "reports" / "latest" / "results.json").read_text())
    assert all(c["id"].startswith("suites/smoke/") for c in results["checks"])
