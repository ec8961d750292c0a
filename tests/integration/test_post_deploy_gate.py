"""The post-deploy gate against real reference services: a healthy release passes; the wrong
version on one of two instances, a missing header, an uncached page and an error ratio each fail
the check that exists for them."""

from __future__ import annotations

import socket
from pathlib import Path

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from releasegate.redact import MASK
from releasegate.target.process import ReferenceServiceProcess
from releasegate.target.settings import DEFAULT_API_TOKEN
from tests.integration.conftest import GateRun, RunGate, StartService, write_env

ENV = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer {token}" }}

[[endpoints]]
path = "/api/tickets"

[[endpoints]]
path = "/api/version"

[post_deploy]
instances = [{instances}]
requests = 80
rate = 200

[headers]
paths = ["/", "/api/version"]

[cache]
paths = [{cache}]
"""


def run_post_deploy(
    run_gate: RunGate,
    tmp_path: Path,
    url: str,
    instances: list[str],
    cache: list[str],
    *args: str,
) -> GateRun:
    envs = tmp_path / "environments"
    text = ENV.format(
        url=url,
        token=DEFAULT_API_TOKEN,
        instances=", ".join(f'"{i}"' for i in instances),
        cache=", ".join(f'"{c}"' for c in cache),
    )
    write_env(envs, "staging", text)
    return run_gate(
        "--env",
        "staging",
        *args,
        marker="post_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )


def test_a_healthy_release_passes_every_post_deploy_check(
    run_gate: RunGate,
    healthy_service: ReferenceServiceProcess,
    start_service: StartService,
    tmp_path: Path,
) -> None:
    second = start_service()
    instances = [healthy_service.base_url, second.base_url]
    run = run_post_deploy(
        run_gate,
        tmp_path,
        healthy_service.base_url,
        instances,
        ["/static/app.js", "/static/style.css"],
        "--release-version",
        "1.0.0",
    )

    outcomes = run.outcomes()
    skipped = {k for k, v in outcomes.items() if v == "skipped"}
    assert skipped == {
        "test_security_headers.py::test_security_header[hsts /]",
        "test_security_headers.py::test_security_header[hsts /api/version]",
        "test_zero_downtime.py::test_deploy_caused_no_downtime",
        "test_deploy_duration.py::test_deploy_finished_within_max_duration",
        # the target is http: no https site whose plain-http twin must redirect
        "test_security_audit.py::test_security[https-redirect]",
    }, run.output
    assert {v for k, v in outcomes.items() if k not in skipped} == {"passed"}, run.output
    assert decide(run.results).verdict is Verdict.GO
    cache = run.check("test_page_is_warm_and_cached[/static/app.js]")
    assert [m.name for m in cache.measurements] == ["first hit", "second hit", "Cache-Control"]


def test_each_fault_fails_its_own_post_deploy_check(
    run_gate: RunGate,
    healthy_service: ReferenceServiceProcess,
    start_service: StartService,
    tmp_path: Path,
) -> None:
    """The target runs 2.0.0 without a Referrer-Policy and fails 30 % of API calls; the other
    instance still runs 1.0.0; / is declared cached but is not."""
    faulty = start_service("version=2.0.0", "drop-header=Referrer-Policy", "error-ratio=0.3")
    # the instances' versions are read from services without the error ratio: a 500 from
    # /api/version would make an instance's version unknown, not 2.0.0
    upgraded = start_service("version=2.0.0")
    run = run_post_deploy(
        run_gate,
        tmp_path,
        faulty.base_url,
        [healthy_service.base_url, upgraded.base_url],
        ["/"],  # a page: the error ratio fault hits the API only
        "--release-version",
        "2.0.0",
    )

    problems = run.problems()
    version = problems["test_version_live.py::test_release_version_is_live_on_every_instance"]
    assert f"1 of 2 instances do not run 2.0.0: {healthy_service.base_url}: 1.0.0" in version
    assert upgraded.base_url not in version
    same = problems["test_version_live.py::test_every_instance_runs_the_same_version"]
    assert "2 versions live" in same
    for path in ("/", "/api/version"):
        referrer = problems[f"test_security_headers.py::test_security_header[referrer {path}]"]
        assert "Referrer-Policy is missing" in referrer
        assert f"test_security_headers.py::test_security_header[csp {path}]" not in problems
    cache = problems["test_cache.py::test_page_is_warm_and_cached[/]"]
    assert "no Cache-Control header" in cache
    errors = problems["test_error_ratio.py::test_error_ratio_is_under_the_threshold"]
    assert "requests failed" in errors
    assert "over 1.0%" in errors
    not_passed = {c.outcome for c in run.results.checks if c.outcome != "passed"}
    assert not_passed == {"failed", "skipped"}, run.output
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_caching_by_speed_fails_when_the_second_hit_is_no_faster(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """`expect = "faster"` on a page that takes 300 ms every time: not warmed, timings shown."""
    slow = start_service("latency=300ms")
    envs = tmp_path / "environments"
    text = ENV.format(
        url=slow.base_url, token=DEFAULT_API_TOKEN, instances="", cache='"/api/version"'
    )
    write_env(envs, "staging", text + 'expect = "faster"\n')
    run = run_gate(
        "--env",
        "staging",
        "-k",
        "cached",
        marker="post_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )

    cache = run.check("test_page_is_warm_and_cached[/api/version]")
    assert cache.outcome == "failed", run.output
    assert "the second hit was not 20% faster" in cache.message
    assert "first 3" in cache.message


def closed_port() -> int:
    """A loopback port nothing listens on: bound, noted, closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_target_that_is_not_running_is_unreachable_not_a_rollback(
    run_gate: RunGate, tmp_path: Path
) -> None:
    """Pointed at a closed loopback port, every check that sends requests ends in error
    (TargetUnreachable: missing evidence), none fails: no request got an answer."""
    url = f"http://127.0.0.1:{closed_port()}"
    envs = tmp_path / "environments"
    text = ENV.format(url=url, token=DEFAULT_API_TOKEN, instances="", cache='"/static/app.js"')
    write_env(envs, "staging", text.replace("requests = 80", "requests = 20"))

    run = run_gate(
        "--env",
        "staging",
        "--release-version",
        "1.0.0",
        "-k",
        "error_ratio or instance or cached or nosniff",
        marker="post_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )

    outcomes = run.outcomes()
    assert set(outcomes) == {
        "test_error_ratio.py::test_error_ratio_is_under_the_threshold",
        "test_version_live.py::test_release_version_is_live_on_every_instance",
        "test_version_live.py::test_every_instance_runs_the_same_version",
        "test_cache.py::test_page_is_warm_and_cached[/static/app.js]",
        "test_security_headers.py::test_security_header[nosniff /]",
        "test_security_headers.py::test_security_header[nosniff /api/version]",
    }, run.output
    assert set(outcomes.values()) == {"error"}, run.output
    problems = run.problems()
    ratio = problems["test_error_ratio.py::test_error_ratio_is_under_the_threshold"]
    assert f"{url}: none of 20 requests got an answer, every one a transport error" in ratio
    assert "ConnectError" in ratio
    version = problems["test_version_live.py::test_release_version_is_live_on_every_instance"]
    assert f"1 of 1 instances could not be reached (1 attempt each): {url}: ConnectError" in version
    cache = problems["test_cache.py::test_page_is_warm_and_cached[/static/app.js]"]
    assert f"GET {url}/static/app.js: ConnectError" in cache
    assert decide(run.results).verdict is not Verdict.ROLLBACK


SECRET_PATH = "planted-Path-Secret-91c2"


def test_ids_of_header_and_cache_paths_mask_a_secret(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """A `[headers]` and `[cache]` path holding a ${VAR} secret: the check ids, in results.json
    and on the terminal, show the mask instead."""
    envs = tmp_path / "environments"
    text = ENV.format(
        url=healthy_service.base_url,
        token=DEFAULT_API_TOKEN,
        instances="",
        cache='"/static/${PATH_TOKEN}.js"',
    )
    write_env(envs, "staging", text.replace('"/api/version"]', '"/files/${PATH_TOKEN}"]'))

    run = run_gate(
        "--env",
        "staging",
        "-v",
        "-k",
        "nosniff or cached",
        marker="post_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs), "PATH_TOKEN": SECRET_PATH},
    )

    ids = set(run.outcomes())
    assert ids == {
        "test_security_headers.py::test_security_header[nosniff /]",
        f"test_security_headers.py::test_security_header[nosniff /files/{MASK}]",
        f"test_cache.py::test_page_is_warm_and_cached[/static/{MASK}.js]",
    }, run.output
    assert f"nosniff /files/{MASK}" in run.output
    assert SECRET_PATH not in run.output
    assert SECRET_PATH not in (run.run_dir / "results.json").read_text()
