"""A planted secret (a ${VAR} value) appears in no file under reports/ and not in the terminal."""

from __future__ import annotations

from pathlib import Path

from releasegate.redact import MASK
from tests.integration.conftest import RunGate, StartService, write_env

PLANTED = "planted-Secret-7f3a9c"

# The secret is the service's API token (sent as a header on every request), part of a URL
# that fails (so it is in a failure message) and the text a page must contain (so it is in
# another failure message): every route by which a value reaches output.
SECRET_ENV = """
[target]
base_url = "{url}"
headers = {{ Authorization = "Bearer ${{PLANTED_TOKEN}}" }}

[[endpoints]]
path = "/api/tickets"

[[endpoints]]
name = "secret in the path"
path = "/api/items/${{PLANTED_TOKEN}}"

[[pages]]
path = "/dashboard"
expect_text = "${{PLANTED_TOKEN}}"
"""


def files_containing(directory: Path, needle: bytes) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_a_planted_secret_reaches_no_report_and_no_terminal(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """Every file under reports/, and pytest's output, shows the mask instead of the secret."""
    service = start_service(api_token=PLANTED)
    envs = tmp_path / "environments"
    write_env(envs, "staging", SECRET_ENV.format(url=service.base_url))

    run = run_gate(
        "--env",
        "staging",
        "-rA",
        "-l",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs), "PLANTED_TOKEN": PLANTED},
    )

    assert run.check("test_endpoint[GET /api/tickets]").outcome == "passed"  # the token worked
    assert run.check("test_endpoint[secret in the path]").outcome == "failed"
    assert MASK in run.check("test_endpoint[secret in the path]").message
    assert MASK in run.output
    assert PLANTED not in run.output
    assert files_containing(run.run_dir.parent, PLANTED.encode()) == []
    assert len(list(run.run_dir.rglob("*"))) > 5
