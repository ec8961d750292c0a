"""The smoke gate and the decision against an application releasegate did not write: Debian's
nginx serving a small static site, visited by a real Chromium.

nginx runs in the foreground with its own configuration in a temporary folder, on a free
loopback port, and is always stopped by its PID. It has no version endpoint, and its health is
its home page answering (`health_format = "status"`), so the runs select the health, endpoint
and page checks (`-k "test_health or test_endpoint or test_page"`);
`releasegate run` passes no pytest arguments through, so each run is `python -m pytest suites -m
smoke ...` from the repository root followed by `releasegate decide`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from tests.fault_proxy import FaultProxy
from tests.integration.conftest import GateRun, gate_argv, run_in_repo, write_env
from tests.tls_server import unused_port
from tests.webhook_receiver import WebhookReceiver

# the health, endpoint and page checks (test_version's "answers_a_version" mentions an endpoint
# too): nginx has no version endpoint, and its home page is its health (the status format)
# (the mixed-content check is skipped on nginx's http pages: left out)
CHECKS = "(test_health or test_endpoint or test_page) and not test_page_loads_nothing_insecure"
# how decide words an unreachable target with evidence that it is down
DOWN = "ROLLBACK, not HOLD: the target is down, not out of this runner's sight: "
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def _require(found: str | None, what: str, install: str) -> str:
    """The binary; outside CI a skip of the module when it is absent, in CI a failure."""
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} not found (CI=true): ./dev setup installs {install}")
        pytest.skip(f"{what} not found (apt-get install {install}); this module runs in CI")
    return found


def nginx_binary() -> str | None:
    """Debian installs nginx in /usr/sbin, which is not on every user's PATH."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


INDEX_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tickets &amp; Orders</title></head>
<body>
<h1>Tickets &amp; Orders</h1>
<p>Welcome <b>back</b>, team</p>
<p id="clock"></p>
<script>
  document.getElementById("clock").textContent = "Rendered at " + new Date().toISOString();
</script>
</body>
</html>
"""

BROKEN_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken</title></head>
<body><h1>Our logo</h1><img src="/missing.png" alt="logo" width="40" height="40"></body>
</html>
"""

STATUS_JSON = {"service": "orders-frontend", "status": "ok", "version": "2.3.1"}

NGINX_CONF = """
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;

events {{ worker_connections 64; }}

http {{
    types {{ text/html html; application/json json; image/png png; }}
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    server {{
        listen 127.0.0.1:{port};
        root {site};
        location /api/ {{ add_header Cache-Control "no-store"; }}
    }}
}}
"""


def write_site(root: Path) -> Path:
    """The static site: a page, a page whose own image 404s, a JSON document; no favicon.ico."""
    root.mkdir(parents=True)
    (root / "index.html").write_text(INDEX_HTML, encoding="utf-8")
    (root / "broken.html").write_text(BROKEN_HTML, encoding="utf-8")
    (root / "api").mkdir()
    (root / "api" / "status.json").write_text(json.dumps(STATUS_JSON), encoding="utf-8")
    return root


class Nginx:
    """Debian's nginx serving `site` on 127.0.0.1, in the foreground, with its own
    configuration, PID file and logs under `prefix`."""

    def __init__(self, binary: str, site: Path, prefix: Path) -> None:
        self.binary = binary
        self.site = site
        self.prefix = prefix
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> Nginx:
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = unused_port()
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                # the master drops to `nobody` when run as root, who may not read a tmp folder
                user="user root;" if os.geteuid() == 0 else "",
                prefix=self.prefix,
                port=self.port,
                site=self.site,
            ),
            encoding="utf-8",
        )
        argv = [self.binary, "-c", str(conf), "-p", str(self.prefix)]
        # -e: the log nginx writes before it has read the configuration (not /var/log/nginx)
        argv += ["-e", str(self.prefix / "error.log"), "-g", "daemon off;"]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited {self.process.returncode}: {self.error_log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.base_url}: {self.error_log}")

    def stop(self) -> None:
        """Fast shutdown by the master's PID (SIGTERM), SIGKILL if it hangs; then the port
        refuses connections."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: master and workers
            self.process.wait(STOP_TIMEOUT_S)


StartNginx = Callable[[], Nginx]


@pytest.fixture(scope="module")
def nginx_bin() -> str:
    """The nginx binary, and a Chromium for the page checks (else skip, or fail in CI)."""
    _require(
        os.environ.get("RELEASEGATE_CHROMIUM") or shutil.which("chromium"), "chromium", "chromium"
    )
    return _require(nginx_binary(), "nginx", "nginx")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static site's document root."""
    return write_site(tmp_path_factory.mktemp("nginx-site") / "www")


@pytest.fixture(scope="module")
def nginx(nginx_bin: str, site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """One nginx for the module's runs against a live site."""
    server = Nginx(nginx_bin, site, tmp_path_factory.mktemp("nginx")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_nginx(nginx_bin: str, site: Path, tmp_path: Path) -> Iterator[StartNginx]:
    """Start an nginx of the test's own (a test may stop it); every one is stopped at the end."""
    started: list[Nginx] = []

    def start() -> Nginx:
        server = Nginx(nginx_bin, site, tmp_path / f"nginx-{len(started)}")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def canary() -> Iterator[WebhookReceiver]:
    """A second live loopback server that answers GET (204): the runner's network works."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


ENV = """
[target]
base_url = "{url}"
read_only = true
timeout = "2s"
retries = 1
health_path = "/"             # a static site: its home page answering 2xx with this is up
health_format = "status"
health_expect_text = "Tickets &amp; Orders"
{target_extra}

[slo.synthetic]
requests = 20
concurrency = 2
duration = "5s"

[[endpoints]]
path = "/api/status.json"
expect_text = "orders-frontend"
"""

HOME_PAGES = """
[[pages]]
path = "/"
name = "home title"
expect_text = "Tickets & Orders"

[[pages]]
path = "/"
name = "home greeting"
expect_text = "Welcome back, team"
"""

BROKEN_PAGE = """
[[pages]]
path = "/broken.html"
"""


def make_env(tmp_path: Path, url: str, pages: str = HOME_PAGES, target_extra: str = "") -> Path:
    """environments/nginx.toml for this test, pointing at `url`."""
    text = ENV.format(url=url, target_extra=target_extra) + pages
    return write_env(tmp_path / "environments", "nginx", text)


@dataclass
class Decided:
    """A smoke run of the page and endpoint checks, and `releasegate decide` on it."""

    run: GateRun
    decide: subprocess.CompletedProcess[str]

    @property
    def decision(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads((self.run.run_dir / "decision.json").read_text())
        return record

    @property
    def reasons(self) -> list[dict[str, Any]]:
        reasons: list[dict[str, Any]] = self.decision["reasons"]
        return reasons

    def output(self) -> str:
        return self.run.output + self.decide.stdout + self.decide.stderr


def smoke(env_file: Path, reports: Path, run_id: str) -> Decided:
    """`pytest suites -m smoke -k "test_endpoint or test_page"`, then `releasegate decide`."""
    argv = gate_argv(f"--env={env_file}", "-k", CHECKS, reports=reports, run_id=run_id)
    run = GateRun(run_in_repo(argv), reports / run_id)
    return Decided(run, releasegate("decide", str(run.run_dir), "--env", str(env_file)))


def releasegate(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m releasegate ARGS` from the repository root."""
    return run_in_repo([sys.executable, "-m", "releasegate", *args])


def test_a_healthy_static_site_is_go_in_a_real_browser(nginx: Nginx, tmp_path: Path) -> None:
    """nginx serves the page and the JSON: GO (exit 0), every page check passed in Chromium,
    although the browser's own /favicon.ico request got a 404, and the expected text is found
    through `&amp;` and `<b>`."""
    env_file = make_env(tmp_path, nginx.base_url)

    ran = smoke(env_file, tmp_path / "reports", "healthy")

    assert ran.decide.returncode == 0, ran.output()
    assert ran.decision["verdict"] == "GO"
    # nothing failed; the only check that did not pass has nothing to judge on a static site
    assert ran.run.problems() == {
        "test_health.py::test_health_reports_every_service_healthy": (
            f"{nginx.base_url}/ lists no components (status format)"
        )
    }
    outcomes = ran.run.outcomes()
    page_checks = {k: v for k, v in outcomes.items() if k.startswith("test_browser_pages.py")}
    assert len(page_checks) == 2 * 8  # two pages, eight checks each (accessibility too)
    assert set(page_checks.values()) == {"passed"}
    for name in ("home title", "home greeting"):
        content = f"test_browser_pages.py::test_page_shows_its_expected_content[{name}-chromium]"
        console = f"test_browser_pages.py::test_page_logs_no_console_errors[{name}-chromium]"
        assert page_checks[content] == page_checks[console] == "passed"
    assert outcomes["test_endpoints.py::test_endpoint[GET /api/status.json]"] == "passed"
    assert outcomes["test_endpoints.py::test_page[home greeting]"] == "passed"
    # nginx's home page is its health, read by its HTTP status (no components to judge)
    assert outcomes["test_health.py::test_health_status_is_healthy"] == "passed"
    assert outcomes["test_health.py::test_health_reports_every_service_healthy"] == "skipped"
    # the browser did ask for the favicon, and nginx said 404: not the page's error
    access_log = (nginx.prefix / "access.log").read_text()
    assert '"GET /favicon.ico HTTP/1.1" 404' in access_log


def test_a_page_whose_own_image_404s_is_rollback(nginx: Nginx, tmp_path: Path) -> None:
    """`<img src="/missing.png">` answering 404 is the page's own failed request: its console
    and failed-request checks fail, ROLLBACK (exit 1), the reasons naming the image."""
    env_file = make_env(tmp_path, nginx.base_url, pages=BROKEN_PAGE)

    ran = smoke(env_file, tmp_path / "reports", "broken")

    assert ran.decide.returncode == 1, ran.output()
    assert ran.decision["verdict"] == "ROLLBACK"
    failed = {r["check"].split("::")[-1]: r for r in ran.reasons}
    assert set(failed) == {
        "test_page_logs_no_console_errors[/broken.html-chromium]",
        "test_page_requests_nothing_that_fails[/broken.html-chromium]",
    }
    assert {r["rule"] for r in ran.reasons} == {"check-failed"}
    for reason in failed.values():
        assert f"{nginx.base_url}/missing.png" in reason["message"]
        assert "404" in reason["message"]


def test_nginx_stopped_without_other_evidence_is_hold(
    start_nginx: StartNginx, tmp_path: Path
) -> None:
    """nginx stopped (connection refused), no answer in the run, no baseline, no canary:
    HOLD (exit 2), every reason `unreachable`, none `check-failed`."""
    server = start_nginx()
    env_file = make_env(tmp_path, server.base_url)
    server.stop()

    ran = smoke(env_file, tmp_path / "reports", "stopped")

    assert ran.decide.returncode == 2, ran.output()
    assert ran.decision["verdict"] == "HOLD"
    assert ran.reasons
    assert {r["rule"] for r in ran.reasons} == {"unreachable"}
    for reason in ran.reasons:
        assert "HOLD, not ROLLBACK" in reason["message"]
        assert "[target] canary_url (not set)" in reason["message"]


def test_nginx_stopped_while_the_canary_answers_is_rollback(
    start_nginx: StartNginx, canary: WebhookReceiver, tmp_path: Path
) -> None:
    """nginx stopped, but `[target] canary_url` (another live loopback server) answers: the
    runner's network works, so nginx is down: ROLLBACK (exit 1), naming the canary."""
    server = start_nginx()
    env_file = make_env(tmp_path, server.base_url, target_extra=f'canary_url = "{canary.url}"')
    server.stop()

    ran = smoke(env_file, tmp_path / "reports", "canary")

    assert ran.decide.returncode == 1, ran.output()
    assert ran.decision["verdict"] == "ROLLBACK"
    assert {r["rule"] for r in ran.reasons} == {"unreachable"}
    for reason in ran.reasons:
        assert reason["message"].endswith(f"{DOWN}the canary {canary.url} answered 204 now")


def test_nginx_that_answered_its_baseline_and_then_stopped_is_rollback(
    start_nginx: StartNginx, tmp_path: Path
) -> None:
    """A baseline taken while nginx is up, a GO run, then nginx stops: the next run (same
    reports folder, no answer of its own) is ROLLBACK by the baseline's answers."""
    server = start_nginx()
    env_file = make_env(tmp_path, server.base_url)
    reports = tmp_path / "reports"
    taken = releasegate("baseline", "--env", str(env_file), "--reports-dir", str(reports))
    assert taken.returncode == 0, taken.stdout + taken.stderr
    before = smoke(env_file, reports, "before")
    assert before.decide.returncode == 0, before.output()
    server.stop()

    after = smoke(env_file, reports, "after")

    assert after.decide.returncode == 1, after.output()
    assert after.decision["verdict"] == "ROLLBACK"
    assert {r["rule"] for r in after.reasons} == {"unreachable"}
    for reason in after.reasons:
        assert f"{DOWN}it answered 20 of 20 requests of the baseline" in reason["message"]


@pytest.fixture(scope="module")
def site_env(nginx: Nginx, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """environments/ with site.toml as `releasegate init` wrote it for the static site, and
    short.toml: the same with the SLO sampling in more threads for less time (for slow runs)."""
    envs = tmp_path_factory.mktemp("nginx-envs") / "environments"
    done = run_in_repo(
        [
            sys.executable,
            "-m",
            "releasegate",
            "init",
            "--base-url",
            nginx.base_url,
            "--name",
            "site",
        ],
        RELEASEGATE_ENV_DIR=str(envs),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = (envs / "site.toml").read_text()
    short = text.replace('duration = "30s"', 'duration = "12s"')
    (envs / "short.toml").write_text(short.replace("concurrency = 4", "concurrency = 16"))
    return envs


def site_gates(envs: Path, tmp_path: Path, marker: str, *args: str, env: str = "site") -> GateRun:
    reports = tmp_path / "reports"
    argv = gate_argv("--env", env, *args, reports=reports, run_id="site", marker=marker)
    return GateRun(run_in_repo(argv, RELEASEGATE_ENV_DIR=str(envs)), reports / "site")


def test_releasegate_init_writes_a_file_on_which_the_gates_say_go(
    site_env: Path, tmp_path: Path
) -> None:
    """`releasegate init` on the static site: no health or version endpoint (their checks
    skip), the home page with its heading; smoke, post-deploy and SLO on the written file: GO."""
    text = (site_env / "site.toml").read_text()
    assert 'health_path = ""' in text
    assert 'expect_text = "Tickets & Orders"' in text
    assert "skip = [" in text  # nginx sends none of the security headers: listed, not failed

    run = site_gates(site_env, tmp_path, "(smoke or post_deploy or slo) and not browser")

    assert decide(run.results).verdict is Verdict.GO, run.output
    assert run.outcomes()["test_endpoints.py::test_page[/]"] == "passed"
    # the one failure is advisory: nginx names its version in `Server` (a warning, no vote)
    failed = [c for c in run.results.checks if c.outcome == "failed"]
    assert [(c.id.split("::")[1], c.blocking) for c in failed] == [
        ("test_security[version-disclosure]", False)
    ], run.output
    assert "nginx/" in failed[0].message


def test_through_a_proxy_answering_half_with_500_the_slo_gate_says_rollback(
    nginx: Nginx, site_env: Path, tmp_path: Path
) -> None:
    """A share of 500s: the one page probe of the smoke gate may or may not meet one; the SLO
    gate's error ratio (1 %) sees it for certain."""
    with FaultProxy(upstream=nginx.base_url, seed=5) as proxy:
        proxy.error_ratio = 0.5
        run = site_gates(site_env, tmp_path, "slo", f"--base-url={proxy.base}", env="short")

    assert decide(run.results).verdict is Verdict.ROLLBACK, run.output
    assert run.outcomes()["test_objectives.py::test_objective[error_ratio-synthetic]"] == "failed"
    assert run.outcomes()["test_objectives.py::test_objective_is_met[error_ratio]"] == "failed"


def test_through_a_slow_proxy_the_slo_gate_says_rollback(
    nginx: Nginx, site_env: Path, tmp_path: Path
) -> None:
    with FaultProxy(upstream=nginx.base_url) as proxy:
        proxy.latency = 0.8  # init proposed a p95 of 500 ms for a site answering in a few ms
        run = site_gates(site_env, tmp_path, "slo", f"--base-url={proxy.base}", env="short")

    assert decide(run.results).verdict is Verdict.ROLLBACK, run.output
    assert run.outcomes()["test_objectives.py::test_objective[p95-synthetic]"] == "failed"
    assert run.outcomes()["test_objectives.py::test_objective_is_met[p95]"] == "failed"
