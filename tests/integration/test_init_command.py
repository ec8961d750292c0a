"""`releasegate init --base-url URL`: an environment file written by looking at a running
application (here the reference service, as any web application), on which the smoke,
post-deploy and SLO gates say GO; it never overwrites a file without --force, and a URL where
nothing answers is one line and exit 3, with no file written."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import RunGate, run_in_repo
from tests.tls_server import unused_port


def init(envs: Path, *args: str) -> tuple[int, str, str]:
    done = run_in_repo(
        [sys.executable, "-m", "releasegate", "init", *args], RELEASEGATE_ENV_DIR=str(envs)
    )
    return done.returncode, done.stdout, done.stderr


def test_init_finds_what_the_application_serves_and_the_gates_say_go(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    envs = tmp_path / "environments"

    code, out, err = init(envs, "--base-url", healthy_service.base_url, "--name", "found")

    assert code == 0, err
    assert "health: /api/health (releasegate)" in out
    assert "OpenAPI document: /openapi.json" in out
    assert out.rstrip().endswith("next: pytest -m smoke --env=found")
    written = tomllib.loads((envs / "found.toml").read_text())
    assert written["target"]["read_only"] is True
    assert written["target"]["version_path"] == "/api/version"
    assert {"path": "/login", "expect_text": "Sign in"} in written["pages"]
    assert written["openapi"]["url"] == "/openapi.json"
    assert written["slo"]["error_ratio_max"] == "1%"
    assert written["slo"]["synthetic"]["requests"] >= 934
    run = run_gate(
        "--env",
        "found",
        marker="(smoke or post_deploy or slo) and not browser",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )
    assert decide(run.results).verdict is Verdict.GO, run.output
    assert run.outcomes()["test_endpoints.py::test_page[/login]"] == "passed"


def test_init_never_overwrites_without_force(
    healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "app.toml").write_text("# mine\n")

    code, _, err = init(envs, "--base-url", healthy_service.base_url)
    assert code == 3
    assert err.strip().splitlines() == [
        f"releasegate: error: {envs / 'app.toml'} exists; pass --force to replace it, or choose"
        " another --name"
    ]
    assert (envs / "app.toml").read_text() == "# mine\n"

    code, _, err = init(envs, "--base-url", healthy_service.base_url, "--force")
    assert code == 0, err
    assert "[target]" in (envs / "app.toml").read_text()


def test_init_at_a_url_where_nothing_answers_writes_nothing(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    url = f"http://127.0.0.1:{unused_port()}"

    code, out, err = init(envs, "--base-url", url)

    assert code == 3
    assert len(err.strip().splitlines()) == 1
    assert f"GET {url}/ got no answer" in err
    assert "is the application running at that URL?" in err
    assert "Traceback" not in out + err
    assert not envs.exists() or not list(envs.iterdir())
