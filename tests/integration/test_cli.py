"""The `releasegate` command as a user runs it: demo, decide, envs; exit codes 0/1/2/3."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.probe import Sample
from releasegate.slo.synthetic import SAMPLES_FILE, SampleSet
from tests.integration.conftest import ROOT, GateRun, gate_env, run_in_repo, write_env


def releasegate(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=cwd,
        env=gate_env(),
        capture_output=True,
        text=True,
        timeout=300,  # the demo runs every gate; a busy CI machine needs the margin
        check=False,
    )


def last_line(process: subprocess.CompletedProcess[str]) -> str:
    return process.stdout.strip().splitlines()[-1]


def test_demo_on_a_healthy_service_ends_in_go(tmp_path: Path) -> None:
    """The README's demo: reference service, every gate, `verdict: GO`, exit 0, reports."""
    demo = releasegate("demo", "--reports-dir", str(tmp_path))

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert last_line(demo).startswith("verdict: GO")
    runs = [
        p
        for p in tmp_path.iterdir()
        if p.name not in ("latest", "site", "watches") and not p.name.startswith(".")
    ]
    assert len(runs) == 1
    assert (runs[0] / "report.html").is_file()
    # the demo's deploy (a graceful restart) was watched, and judged by the post-deploy gate
    assert "deploy watch: GO: no downtime" in demo.stdout
    results = json.loads((runs[0] / "results.json").read_text())
    downtime = [c for c in results["checks"] if c["id"].endswith("test_deploy_caused_no_downtime")]
    assert [c["outcome"] for c in downtime] == ["passed"]
    # the service's own signals (local.toml's [[metrics]] and [[logs]]) were measured and held
    custom = {
        c["id"].split("::")[1]: c["outcome"]
        for c in results["checks"]
        if "_metrics.py::" in c["id"]
    }
    assert custom == {
        "test_metric_before[resident memory growth]": "passed",
        "test_metric_before[failed jobs]": "passed",
        "test_metric[failed jobs]": "passed",
        "test_log[no new errors in the service log]": "passed",
        "test_metric[resident memory growth]": "passed",
        "test_metric[cache hit rate]": "passed",
    }
    assert (tmp_path / "latest").resolve() == runs[0].resolve()
    run_page = tmp_path / "site" / "runs" / runs[0].name / "index.html"
    assert 'data-verdict="GO"' in run_page.read_text()
    assert f"report site: {tmp_path / 'site' / 'index.html'}" in demo.stdout


def test_demo_with_a_degraded_database_ends_in_rollback(tmp_path: Path) -> None:
    """`--fault health=degraded:database`: `verdict: ROLLBACK`, exit 1, the reason named."""
    demo = releasegate(
        "demo", "--fault", "health=degraded:database", "--reports-dir", str(tmp_path)
    )

    assert demo.returncode == 1, demo.stdout + demo.stderr
    assert last_line(demo).startswith("verdict: ROLLBACK")
    assert "'database': 'degraded'" in demo.stdout
    (page,) = (tmp_path / "site" / "runs").glob("*/index.html")
    assert 'data-verdict="ROLLBACK"' in page.read_text()


def test_demo_with_an_unknown_fault_is_a_usage_error(tmp_path: Path) -> None:
    """A bad fault is one line on stderr and exit 3; nothing is run."""
    demo = releasegate("demo", "--fault", "earthquake=1", "--reports-dir", str(tmp_path))

    assert demo.returncode == 3
    assert len(demo.stderr.strip().splitlines()) == 1
    assert "earthquake" in demo.stderr
    assert "Traceback" not in demo.stderr
    assert list(tmp_path.iterdir()) == []


def test_smoke_against_a_closed_port_decides_hold(
    closed_port_smoke_run: GateRun, tmp_path: Path
) -> None:
    """pytest against nothing, with no evidence that it ever answered, then `releasegate decide
    reports/latest`: HOLD, exit 2, by the unreachable rule."""
    reports = tmp_path / "reports"  # a copy: the run is shared with the smoke gate's tests
    shutil.copytree(closed_port_smoke_run.run_dir, reports / "closed", symlinks=True)
    (reports / "latest").symlink_to("closed")

    decided = releasegate("decide", str(reports / "latest"))

    assert decided.returncode == 2, decided.stdout
    assert last_line(decided).startswith("verdict: HOLD")
    assert "; unreachable)" in decided.stdout
    assert "could-not-measure" not in decided.stdout


def test_decide_on_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    """A run directory that does not exist: one line, exit 3."""
    decided = releasegate("decide", str(tmp_path / "nope"))

    assert decided.returncode == 3
    assert "no such run directory" in decided.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(None, "no results.json", id="no-results"),
        pytest.param(
            '{"schema": "releasegate.results/1", "run": {"id"', "not valid JSON", id="truncated"
        ),
    ],
)
def test_decide_on_missing_evidence_is_hold(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    """A run folder without readable results.json is HOLD (exit 2), saying why."""
    if content is not None:
        (tmp_path / "results.json").write_text(content)

    decided = releasegate("decide", str(tmp_path))

    assert decided.returncode == 2
    assert reason in decided.stdout


def test_decide_twice_gives_the_same_answer(tmp_path: Path) -> None:
    """Deciding is a pure function of the files: the same output twice."""
    results = {
        "schema": "releasegate.results/1",
        "run": {
            "id": "r",
            "environment": "local",
            "target_url": None,
            "started_at": "2026-01-01T00:00:00Z",
            "tool_version": "0",
            "stages_requested": ["smoke"],
            "status": "finished",
            "complete": True,
            "pytest_exit_status": 1,
        },
        "checks": [
            {
                "id": "a::t",
                "stage": "smoke",
                "outcome": "failed",
                "cause": "product",
                "message": "GET http://x/ answered 500, expected 200",
            }
        ],
    }
    (tmp_path / "results.json").write_text(json.dumps(results))

    first, second = releasegate("decide", str(tmp_path)), releasegate("decide", str(tmp_path))

    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    # evidence without titles: the node id in words leads the reason
    assert "  T: GET http://x/ answered 500, expected 200 (a::t; check-failed)" in first.stdout


def test_envs_lists_and_checks_the_shipped_environments() -> None:
    """`envs` lists local and the examples; `envs check` finds them valid."""
    listed = releasegate("envs")
    checked = releasegate("envs", "check")

    assert listed.returncode == 0
    assert "local" in listed.stdout
    assert "staging.example" in listed.stdout
    assert checked.returncode == 0, checked.stdout
    assert "ok   prod.example" in checked.stdout


def test_envs_check_names_the_file_and_key_of_a_bad_file(tmp_path: Path) -> None:
    """One bad file: its line names file, key and problem; exit 3."""
    write_env(
        tmp_path / "environments",
        "prod",
        '[target]\nbase_url = "https://x"\n[slo]\nlatency_p95_ms = -5\n',
    )

    checked = releasegate("envs", "check", cwd=tmp_path)

    assert checked.returncode == 3
    assert "FAIL prod: environments/prod.toml: slo.latency_p95_ms must be > 0 (got -5)" in (
        checked.stdout
    )


def test_envs_check_warns_about_a_restore_without_sanity_queries(tmp_path: Path) -> None:
    """A valid file whose backup restore has no sanity query: ok, plus a warning naming the
    file and key; still exit 0."""
    write_env(
        tmp_path / "environments",
        "prod",
        '[target]\nbase_url = "https://x"\n[database]\nurl = "postgresql://app@db/app"\n'
        '[database.backup]\nglob = "*.dump"\n',
    )

    checked = releasegate("envs", "check", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout
    assert "ok   prod" in checked.stdout
    assert (
        "warning: environments/prod.toml: [database.backup] sanity: no sanity query configured"
        in checked.stdout
    )


def test_envs_check_and_policy_explain_plan_the_slo_samples(tmp_path: Path) -> None:
    """99.9 % availability with the default budget of 1,000: a warning naming the file, key
    and figures (4,079 needed); with the last run's samples (0.05 % failed) the plan says what
    that share needs too. Still exit 0: a warning, not an error."""
    write_env(
        tmp_path / "environments",
        "prod",
        '[target]\nbase_url = "https://x.example"\n[slo]\navailability_min = "99.9%"\n',
    )
    answers = [Sample(0.0, "GET /", 500 if i == 0 else 200, 10.0) for i in range(2000)]
    SampleSet("prod", "https://x.example", answers).write(
        tmp_path / "reports" / "run-1" / SAMPLES_FILE
    )

    checked = releasegate("envs", "check", cwd=tmp_path)
    explained = releasegate("policy", "explain", "--env", "prod", cwd=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (
        "slo sampling: availability >= 99.90%: 4079 samples on a flawless service;"
        in checked.stdout
    )
    assert "at 0.05% failed requests (run-1, 2000 samples)" in checked.stdout
    assert (
        "warning: environments/prod.toml: [slo.synthetic] requests = 1000 allows 1000 samples;"
        " availability >= 99.90% needs 4079 even on a flawless service: HOLD every run"
    ) in checked.stdout
    assert explained.returncode == 0, explained.stdout + explained.stderr
    assert "SLO sampling stops once every objective is decided" in explained.stdout
    assert "needs 4079 even on a flawless service" in explained.stdout


@pytest.mark.parametrize("command", [["envs", "check"], ["policy", "explain", "--env", "prod"]])
def test_a_policy_under_which_nothing_votes_is_an_error(tmp_path: Path, command: list[str]) -> None:
    """`blocking_stages = []` can never say GO: `envs check` and `policy explain` exit 3."""
    write_env(
        tmp_path / "environments",
        "prod",
        '[target]\nbase_url = "https://x.example"\n[policy]\nblocking_stages = []\n',
    )

    ran = releasegate(*command, cwd=tmp_path)

    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "policy.blocking_stages = [] lets no check vote" in ran.stdout


def test_pytest_without_an_environment_is_a_usage_error() -> None:
    """Collecting the suites with no --env: pytest's usage error, listing the known ones."""
    ran = run_in_repo([sys.executable, "-m", "pytest", "-m", "smoke", "-p", "no:cacheprovider"])

    assert ran.returncode == 4
    assert "choose the environment to gate with --env NAME" in ran.stderr
    assert "local" in ran.stderr


def test_pytest_with_an_unknown_environment_lists_the_known_ones() -> None:
    """--env with no such file: usage error, one line, with the known names."""
    ran = run_in_repo(
        [sys.executable, "-m", "pytest", "-m", "smoke", "--env", "prdo", "-p", "no:cacheprovider"]
    )

    assert ran.returncode == 4
    assert "unknown environment 'prdo'" in ran.stderr
    assert "known: local, prod.example, staging.example" in ran.stderr


def test_report_open_serves_the_site_on_loopback(tmp_path: Path) -> None:
    """`report open --serve` prints the site's address and serves it until stopped."""
    import httpx

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>Release gate runs</h1>")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "releasegate",
            "report",
            "open",
            "--out",
            str(tmp_path / "site"),
            "--serve",
            "--port",
            "0",
        ],
        cwd=ROOT,
        env=gate_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        serving = server.stdout.readline()
        url = serving.split("serving on ", 1)[1].split()[0]
        page = httpx.get(url + "index.html", timeout=10)
    finally:
        server.terminate()
        server.communicate(timeout=10)

    assert first.startswith("file://")
    assert url.startswith("http://127.0.0.1:")
    assert "Release gate runs" in page.text


def test_report_open_without_a_site_says_how_to_build_it(tmp_path: Path) -> None:
    """No site yet: one line pointing at `releasegate report build`, exit 3."""
    ran = releasegate("report", "open", "--out", str(tmp_path / "nothing"))

    assert ran.returncode == 3
    assert "releasegate report build" in ran.stderr
