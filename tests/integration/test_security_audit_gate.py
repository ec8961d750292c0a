"""The post-deploy passive security audit against real servers: the healthy reference service
passes every rule (over http, where Secure and the https redirect are not judged, saying so);
each audit fault of the reference service fails its rule's check with its URL and evidence,
ROLLBACK for a blocking rule and GO with a warning for the advisory one, through a gate run and
`releasegate decide`; and Debian's nginx, an application releasegate did not write, gives its
version away (advisory) and, with a `.git/HEAD` in its site, leaks it (ROLLBACK)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.evidence.results import CheckResult
from tests.integration.conftest import (
    GateRun,
    RunGate,
    gate_argv,
    run_in_repo,
    write_env,
)
from tests.integration.test_metric_faults import local_with
from tests.integration.test_third_party_nginx import Nginx, _require, nginx_binary, write_site

AUDIT = "test_security_audit"


def local(tmp_path: Path, *faults: str, extra: str = "") -> str:
    """`--env=` for a copy of environments/local.toml whose reference service starts with
    `faults`, without the Prometheus beside it (the audit does not read it), plus `extra`."""
    env = local_with(tmp_path, *faults)
    path = Path(env.removeprefix("--env="))
    text = path.read_text(encoding="utf-8")
    anchor = "\nprometheus = true"
    assert anchor in text
    path.write_text(text.replace(anchor, "\nprometheus = false", 1) + extra, encoding="utf-8")
    return env


def audit(run_gate: RunGate, env: str) -> GateRun:
    """The audit's checks alone, in a post-deploy gate run."""
    return run_gate(env, "-k", AUDIT, marker="post_deploy")


def decided(run: GateRun) -> tuple[int, dict[str, Any]]:
    """`releasegate decide RUN_DIR`: its exit code and decision.json."""
    process = run_in_repo([sys.executable, "-m", "releasegate", "decide", str(run.run_dir)])
    record: dict[str, Any] = json.loads((run.run_dir / "decision.json").read_text())
    return process.returncode, record


def check(run: GateRun, rule: str) -> CheckResult:
    return run.check(f"test_security[{rule}]")


def test_the_healthy_reference_service_passes_every_rule(run_gate: RunGate, tmp_path: Path) -> None:
    """Every rule passes; over http the https redirect is skipped and the cookie check says
    Secure was not judged; `releasegate decide` says GO without a warning."""
    run = audit(run_gate, local(tmp_path))

    outcomes = {c.id.partition("::")[2]: (c.outcome, c.blocking) for c in run.results.checks}
    assert outcomes == {
        "test_security[cookie-flags]": ("passed", True),
        "test_security[cookie-flags:advisory]": ("passed", False),
        "test_security[cors]": ("passed", True),
        "test_security[cors:advisory]": ("passed", False),
        "test_security[version-disclosure]": ("passed", False),
        "test_security[exposed-files]": ("passed", True),
        "test_security[directory-listing]": ("passed", True),
        "test_security[https-redirect]": ("skipped", True),
    }, run.output
    redirect = check(run, "https-redirect").message
    assert "the target is http" in redirect
    cookies = check(run, "cookie-flags").measurements[0]
    assert cookies.value == 0
    assert "Secure not judged: the target is http" in str(cookies.note)
    exposed = check(run, "exposed-files").measurements[0]
    assert (exposed.samples or 0) > 20  # the usual files, and backups of the pages
    code, decision = decided(run)
    assert (code, decision["verdict"], decision["warnings"]) == (0, "GO", []), run.output


FAULTS = [
    pytest.param(
        "expose=/.git/HEAD",
        "exposed-files",
        "/.git/HEAD: 200 with a git HEAD: 'ref: refs/heads/main'",
        "ROLLBACK",
        id="expose-git-head",
    ),
    pytest.param(
        "expose=/.env",
        "exposed-files",
        "/.env: 200 with an environment file: 3 KEY=value lines (DATABASE_URL, SECRET_KEY, DEBUG)",
        "ROLLBACK",
        id="expose-env",
    ),
    pytest.param(
        "cors=reflect",
        "cors",
        "/: Origin https://evil.example reflected (Access-Control-Allow-Origin:"
        " https://evil.example, Access-Control-Allow-Credentials: true)",
        "ROLLBACK",
        id="cors-reflect",
    ),
    pytest.param(
        "cookie-insecure",
        "cookie-flags",
        "/login: session-like cookie rg_auth_state without HttpOnly",
        "ROLLBACK",
        id="cookie-insecure",
    ),
    pytest.param(
        "server-banner",
        "version-disclosure",
        "/: Server: aiohttp/3.",
        "GO",
        id="server-banner",
    ),
]


@pytest.mark.parametrize(("fault", "rule", "evidence", "verdict"), FAULTS)
def test_each_fault_fails_its_rule(
    run_gate: RunGate, tmp_path: Path, fault: str, rule: str, evidence: str, verdict: str
) -> None:
    run = audit(run_gate, local(tmp_path, fault))

    failed = {c.id.partition("::")[2] for c in run.results.checks if c.outcome == "failed"}
    expected = {f"test_security[{rule}]"}
    if fault == "cookie-insecure":  # nor SameSite: the advisory half fails too
        expected.add("test_security[cookie-flags:advisory]")
    assert failed == expected, run.output
    message = check(run, rule).message
    assert f"{rule}: " in message
    assert f"{run.results.run.target_url}{evidence}" in message
    assert "hunter2" not in message  # a leaked .env is shown by its names, never its values
    code, decision = decided(run)
    assert decision["verdict"] == verdict, run.output
    if verdict == "ROLLBACK":
        assert code == 1
        assert [(r["rule"], r["check"].partition("::")[2]) for r in decision["reasons"]] == [
            ("check-failed", f"test_security[{rule}]")
        ]
    else:
        assert code == 0
        assert [w["check"].partition("::")[2] for w in decision["warnings"]] == [
            f"test_security[{rule}]"
        ]
        assert "advisory" in {w["rule"] for w in decision["warnings"]}


def test_overrides_make_a_rule_blocking_or_turn_it_off(run_gate: RunGate, tmp_path: Path) -> None:
    """`[security] rules`: version disclosure blocking is ROLLBACK; cookie-flags off has no
    check; a budget of 10 requests is said in the messages, not hidden."""
    overrides = (
        '\n[security]\nrules = { "version-disclosure" = "blocking", "cookie-flags" = "off" }\n'
        "max_requests = 10\n"
    )
    env = local(tmp_path, "server-banner", "cookie-insecure", extra=overrides)

    run = audit(run_gate, env)

    ids = {c.id.partition("::")[2] for c in run.results.checks}
    assert not any("cookie-flags" in i for i in ids), ids
    version = check(run, "version-disclosure")
    assert (version.outcome, version.blocking) == ("failed", True), run.output
    exposed = check(run, "exposed-files")
    assert "requests not sent: [security] max_requests = 10" in str(exposed.measurements[0].note)
    code, decision = decided(run)
    assert (code, decision["verdict"]) == (1, "ROLLBACK")


# --------------------------------------------------------------------------- a third-party app

NGINX_ENV = """
[target]
base_url = "{url}"
read_only = true
timeout = "2s"

[[pages]]
path = "/"

[[endpoints]]
path = "/api/status.json"
"""


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    """Debian's nginx serving the static site of test_third_party_nginx, with its default
    `server_tokens on` (Server: nginx/1.x)."""
    binary = _require(nginx_binary(), "nginx", "nginx")
    server = Nginx(binary, write_site(tmp_path / "www"), tmp_path / "nginx").start()
    try:
        yield server
    finally:
        server.stop()


def nginx_audit(nginx: Nginx, tmp_path: Path, run_id: str) -> GateRun:
    env_file = write_env(tmp_path / "environments", "nginx", NGINX_ENV.format(url=nginx.base_url))
    reports = tmp_path / "reports"
    argv = gate_argv(
        f"--env={env_file}", "-k", AUDIT, reports=reports, run_id=run_id, marker="post_deploy"
    )
    return GateRun(run_in_repo(argv), reports / run_id)


def test_nginx_gives_its_version_away_and_leaks_a_git_head(nginx: Nginx, tmp_path: Path) -> None:
    """nginx's `Server: nginx/1.x` is an advisory finding (GO with a warning); a `.git/HEAD`
    left in its site root is served, and the decision is ROLLBACK."""
    clean = nginx_audit(nginx, tmp_path, "clean")

    version = check(clean, "version-disclosure")
    assert (version.outcome, version.blocking) == ("failed", False), clean.output
    assert f"{nginx.base_url}/: Server: nginx/1." in version.message
    assert check(clean, "exposed-files").outcome == "passed", clean.output
    code, decision = decided(clean)
    assert (code, decision["verdict"]) == (0, "GO"), clean.output
    assert [w["check"].partition("::")[2] for w in decision["warnings"]] == [
        "test_security[version-disclosure]"
    ]

    (nginx.site / ".git").mkdir()
    (nginx.site / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    leaked = nginx_audit(nginx, tmp_path, "leaked")

    exposed = check(leaked, "exposed-files")
    assert exposed.outcome == "failed", leaked.output
    assert f"{nginx.base_url}/.git/HEAD: 200 with a git HEAD: 'ref: refs/heads/main'" in (
        exposed.message
    )
    code, decision = decided(leaked)
    assert (code, decision["verdict"]) == (1, "ROLLBACK"), leaked.output
