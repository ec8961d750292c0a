"""`releasegate run` end to end: pytest, decision.json, the rollback hook, the webhook."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.redact import MASK
from tests.integration.conftest import ROOT, StartService, gate_env, write_env
from tests.tls_server import unused_port
from tests.webhook_receiver import WebhookReceiver

PLANTED = "planted-Hook-Secret-91c2"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver()
    yield started
    started.close()


ENV = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer local-demo-token", X-Planted = "${{PLANTED}}" }}

[[endpoints]]
path = "/api/tickets"

[policy]
on_inconclusive = "{on_inconclusive}"

[rollback]
command = ["{python}", "-c", {script}, "{marker}"]
timeout = "30s"

[notify]
webhook_url = "{webhook}"
format = "json"
"""


# The rollback hook: leaves a mark (to count its runs) and prints the planted secret
HOOK = (
    "import os, sys; open(sys.argv[1], 'a').write('rolled back\\n');"
    " print('token', os.environ['PLANTED'])"
)


def releasegate(
    *args: str, env_vars: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=ROOT,
        env=gate_env({"PLANTED": PLANTED, **(env_vars or {})}),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def make_env(tmp_path: Path, url: str, webhook: str, on_inconclusive: str = "hold") -> Path:
    return write_env(
        tmp_path / "environments",
        "staging",
        ENV.format(
            url=url,
            python=sys.executable,
            script=json.dumps(HOOK),
            marker=tmp_path / "marker.txt",
            webhook=webhook,
            on_inconclusive=on_inconclusive,
        ),
    )


def run_gate(env_file: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return releasegate(
        "run",
        "--env",
        str(env_file),
        "--stage",
        "smoke",
        "--run-id",
        "r1",
        "--reports-dir",
        str(tmp_path / "reports"),
        *extra,
    )


def decision(tmp_path: Path) -> dict[str, object]:
    return json.loads((tmp_path / "reports" / "r1" / "decision.json").read_text())  # type: ignore[no-any-return]


def test_a_healthy_run_is_go_with_a_decision_file(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Healthy: exit 0, decision.json says GO, the webhook hears GO, no hook runs."""
    service = start_service()
    env_file = make_env(tmp_path, service.base_url, receiver.url)

    ran = run_gate(env_file, tmp_path, "--execute-rollback")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip().splitlines()[-1].startswith("verdict: GO")
    record = decision(tmp_path)
    assert record["schema"] == "releasegate.decision/1"
    assert record["verdict"] == "GO"
    assert record["stages"][0]["verdict"] == "GO"  # type: ignore[index]
    assert record["actions"]["rollback"] is None  # type: ignore[index]
    assert [b["verdict"] for b in receiver.bodies] == ["GO"]
    assert not (tmp_path / "marker.txt").exists()


def test_a_failing_check_rolls_back_once(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """A blocking failure: exit 1, the hook runs exactly once even when decided again."""
    service = start_service("error-ratio=1.0")
    env_file = make_env(tmp_path, service.base_url, receiver.url)

    ran = run_gate(env_file, tmp_path, "--execute-rollback")
    again = releasegate(
        "decide", str(tmp_path / "reports" / "r1"), "--env", str(env_file), "--execute-rollback"
    )

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert again.returncode == 1
    assert (tmp_path / "marker.txt").read_text() == "rolled back\n"
    hook = decision(tmp_path)["actions"]["rollback"]  # type: ignore[index]
    assert hook["executed"] is True
    assert hook["exit_code"] == 0
    assert "at most once" in hook["reason"]
    reasons = decision(tmp_path)["reasons"]
    assert reasons[0]["rule"] == "check-failed"  # type: ignore[index]
    assert "answered 500, expected 200" in reasons[0]["message"]  # type: ignore[index]
    assert {m["name"] for m in reasons[0]["measurements"]} == {"latency", "status"}  # type: ignore[index]
    # each check's title, from its docstring and parametrization: in the evidence, the
    # decision, the webhook's message and the terminal, ahead of the node id
    title = "Endpoint GET /api/tickets answers as expected, in time"
    checks = json.loads((tmp_path / "reports" / "r1" / "results.json").read_text())["checks"]
    titles = {c["id"].split("::")[1]: c["title"] for c in checks}
    assert titles["test_endpoint[GET /api/tickets]"] == title
    assert titles["test_health_status_is_healthy"] == "The service reports itself healthy"
    assert all(t and "{" not in t for t in titles.values()), titles
    assert reasons[0]["title"] == title  # type: ignore[index]
    assert reasons[0]["check"].endswith("::test_endpoint[GET /api/tickets]")  # type: ignore[index]
    (body,) = receiver.bodies
    assert body["verdict"] == "ROLLBACK"
    assert "answered 500" in body["reasons"][0]  # type: ignore[index]
    assert body["reasons"][0].startswith(f"{title}: GET ")  # type: ignore[index]
    assert "(test_endpoints.py::test_endpoint[GET /api/tickets]; check-failed)" in ran.stdout
    assert f"  {title}: GET " in ran.stdout


def test_without_execute_rollback_the_hook_is_only_shown(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """ROLLBACK without --execute-rollback prints what it would run and runs nothing."""
    service = start_service("error-ratio=1.0")
    env_file = make_env(tmp_path, service.base_url, receiver.url)

    ran = run_gate(env_file, tmp_path, "--no-notify")

    assert ran.returncode == 1
    assert "rollback hook: would run" in ran.stdout
    assert not (tmp_path / "marker.txt").exists()
    assert receiver.bodies == []


@pytest.mark.parametrize(("policy", "code"), [("hold", 2), ("rollback", 1)])
def test_an_unreachable_target_is_hold_or_rollback_by_policy(
    receiver: WebhookReceiver, tmp_path: Path, policy: str, code: int
) -> None:
    """Nothing listening and no evidence that it ever answered: HOLD (exit 2), or ROLLBACK
    (exit 1) with on_inconclusive = rollback."""
    env_file = make_env(tmp_path, "http://127.0.0.1:9", receiver.url, on_inconclusive=policy)

    ran = run_gate(env_file, tmp_path, "--no-notify")

    assert ran.returncode == code, ran.stdout + ran.stderr
    assert decision(tmp_path)["evidence"]["complete"] is False  # type: ignore[index]
    assert decision(tmp_path)["reasons"][0]["rule"] == "unreachable"  # type: ignore[index]
    assert "HOLD, not ROLLBACK" in decision(tmp_path)["reasons"][0]["message"]  # type: ignore[index]


def test_every_stage_applies_one_rule_to_an_unreachable_target(
    receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Smoke, post-deploy and SLO against a closed port with no evidence that it answered: one
    verdict, HOLD, every reason the unreachable rule (the request loops of post-deploy and SLO
    counted refused connections as failed requests: ROLLBACK)."""
    closed = f"http://127.0.0.1:{unused_port()}"
    env_file = make_env(tmp_path, closed, receiver.url)

    ran = releasegate(
        "run",
        *("--env", str(env_file), "--run-id", "r1", "--no-notify"),
        *("--stage", "smoke", "--stage", "post-deploy", "--stage", "slo"),
        *("--reports-dir", str(tmp_path / "reports")),
    )

    assert ran.returncode == 2, ran.stdout + ran.stderr
    reasons = decision(tmp_path)["reasons"]
    rules = {r["rule"] for r in reasons}  # type: ignore[union-attr]
    assert "check-failed" not in rules
    assert "unreachable" in rules
    stages = {r["stage"] for r in reasons if r["rule"] == "unreachable"}  # type: ignore[union-attr]
    assert {"smoke", "post_deploy", "slo"} <= stages


def test_an_unreachable_target_is_rollback_when_the_canary_answers(
    receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Nothing listening, but [target] canary_url answers: the runner's network works, so the
    target is down: ROLLBACK (exit 1), the reason naming the canary."""
    env_file = make_env(tmp_path, "http://127.0.0.1:9", receiver.url)
    text = env_file.read_text().replace("[target]\n", f'[target]\ncanary_url = "{receiver.url}"\n')
    env_file.write_text(text)

    ran = run_gate(env_file, tmp_path, "--no-notify")

    assert ran.returncode == 1, ran.stdout + ran.stderr
    reason = decision(tmp_path)["reasons"][0]
    assert reason["rule"] == "unreachable"  # type: ignore[index]
    assert f"the canary {receiver.url} answered" in reason["message"]  # type: ignore[index]


def test_a_target_that_answered_its_baseline_and_then_went_away_is_rollback(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """A baseline of this target taken before the deploy, then the target stops: ROLLBACK."""
    service = start_service()
    env_file = make_env(tmp_path, service.base_url, receiver.url)
    taken = releasegate(
        "baseline", "--env", str(env_file), "--reports-dir", str(tmp_path / "reports")
    )
    assert taken.returncode == 0, taken.stdout + taken.stderr
    service.stop()

    ran = run_gate(env_file, tmp_path, "--no-notify")

    assert ran.returncode == 1, ran.stdout + ran.stderr
    reason = decision(tmp_path)["reasons"][0]
    assert reason["rule"] == "unreachable"  # type: ignore[index]
    assert "of the baseline" in reason["message"]  # type: ignore[index]


def test_a_check_that_never_reported_is_hold(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """A collected check that never reports (a crash between collection and report) leaves
    fewer checks than collected: HOLD with checks-missing, not GO on the rest."""
    service = start_service()
    env_file = make_env(tmp_path, service.base_url, receiver.url)
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "conftest.py").write_text(LOSES_A_CHECK)
    (suites / "test_two.py").write_text(TWO_SMOKE_CHECKS)

    ran = run_gate(env_file, tmp_path, "--no-notify", "--suites", str(suites))

    assert ran.returncode == 2, ran.stdout + ran.stderr
    reason = decision(tmp_path)["reasons"][0]
    assert reason["rule"] == "checks-missing"  # type: ignore[index]
    assert reason["message"].startswith("1 of 2 collected checks")  # type: ignore[index]


# A plugin that swallows one test whole: collected, never run, never reported
LOSES_A_CHECK = """
def pytest_runtest_protocol(item, nextitem):
    if item.name == "test_lost":
        return True
    return None
"""

TWO_SMOKE_CHECKS = """
import pytest

pytestmark = pytest.mark.smoke


def test_kept():
    pass


def test_lost():
    pass
"""

UNSTAGED_CHECKS = """
import pytest


@pytest.mark.smoke
def test_staged_passes():
    pass


def test_without_a_stage_fails():
    assert False, "the team's own check found the release wrong"
"""


def test_a_failing_check_without_a_stage_is_rollback(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """A team's check collected without a stage marker counts (stage unstaged, blocking): its
    failure is ROLLBACK, and the warning names the file that lacks a stage."""
    service = start_service()
    env_file = make_env(tmp_path, service.base_url, receiver.url)
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_team.py").write_text(UNSTAGED_CHECKS)

    ran = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(checks), "-p", "no:locust"),
            *("-p", "no:cacheprovider", f"--env={env_file}", "--run-id=r1"),
            f"--reports-dir={tmp_path / 'reports'}",
        ],
        cwd=tmp_path,
        env=gate_env({"PLANTED": PLANTED}),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    decided = releasegate("decide", str(tmp_path / "reports" / "r1"), "--env", str(env_file))

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert decided.returncode == 1, decided.stdout
    record = decision(tmp_path)
    (failed,) = record["reasons"]  # type: ignore[misc]
    assert failed["rule"] == "check-failed"
    assert failed["stage"] == "unstaged"
    assert "test_team.py has no stage marker" in decided.stdout


def test_no_secret_reaches_reports_hook_output_or_terminal(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """The planted ${VAR} (a header, printed by the hook) is masked everywhere: evidence,
    decision.json, hook output, pytest-html, Allure, the site, the webhook and the terminal."""
    service = start_service("error-ratio=1.0")
    env_file = make_env(tmp_path, service.base_url, receiver.url)

    ran = run_gate(env_file, tmp_path, "--execute-rollback")
    site = releasegate("report", "build", "--reports-dir", str(tmp_path / "reports"))

    assert site.returncode == 0, site.stderr
    page = (tmp_path / "reports" / "site" / "runs" / "r1" / "index.html").read_text()
    assert f"token {MASK}" in page  # the hook's output is on the run page, masked
    log = (tmp_path / "reports" / "r1" / "actions" / "rollback.log").read_text()
    assert log.strip() == f"token {MASK}"
    assert PLANTED not in ran.stdout + ran.stderr
    leaking = [
        p
        for p in (tmp_path / "reports").rglob("*")
        if p.is_file() and PLANTED.encode() in p.read_bytes()
    ]
    assert leaking == []
    assert PLANTED not in json.dumps(receiver.bodies)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["run", "--env", "local", "--stage", "smok"], "unknown stage 'smok'", id="unknown-stage"
        ),
        pytest.param(
            ["run", "--env", "nope", "--stage", "smoke"],
            "unknown environment 'nope'",
            id="unknown-env",
        ),
        pytest.param(
            ["decide", "reports/no-such-run-id"], "no such run directory", id="unknown-run-id"
        ),
        pytest.param(
            ["policy", "explain", "--env", "nope"], "unknown environment", id="explain-unknown-env"
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_3(args: list[str], message: str) -> None:
    """Usage errors: one line on stderr naming the problem, exit 3, no traceback."""
    ran = releasegate(*args)

    assert ran.returncode == 3
    assert message in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def test_a_corrupted_results_file_is_hold_and_says_so(tmp_path: Path) -> None:
    """A truncated results.json: HOLD (exit 2), the file named, decision.json written."""
    (tmp_path / "results.json").write_text('{"schema": "releasegate.results/1", "ru')

    ran = releasegate("decide", str(tmp_path))

    assert ran.returncode == 2
    assert "not valid JSON" in ran.stdout
    assert json.loads((tmp_path / "decision.json").read_text())["verdict"] == "HOLD"


def test_policy_explain_speaks_plainly_and_lints(tmp_path: Path) -> None:
    """`policy explain` says what blocks and what missing evidence means; lint warns."""
    env_file = write_env(
        tmp_path,
        "prod",
        '[target]\nbase_url = "https://x.example"\n[slo]\navailability_min = "99.9%"\n'
        'error_ratio_max = "5%"\n[policy]\nblocking_stages = ["smoke"]\n',
    )

    ran = releasegate("policy", "explain", "--env", str(env_file))

    assert ran.returncode == 0
    assert "Blocking stages: smoke." in ran.stdout
    assert "means HOLD; never GO" in ran.stdout
    assert "burn the 30-day error budget" in ran.stdout
