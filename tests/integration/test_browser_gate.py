"""The browser gate in a real Chromium against the real reference service: green when healthy,
and each fault it exists for fails the right check, with the page, the step and what the browser
saw, and a screenshot on the reports. No browser is missing evidence (HOLD), never a pass."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from releasegate.browser.locate import locate_chromium
from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from releasegate.redact import MASK
from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import GateRun, RunGate, StartService, write_env

pytestmark = pytest.mark.skipif(
    not (os.environ.get("RELEASEGATE_CHROMIUM") or shutil.which("chromium")),
    reason="no Chromium here (CI installs Debian's chromium package)",
)

BROWSER_CHECKS = "browser_pages or flows"
PAGE_CHECKS = (
    "test_page_loads_in_the_browser",
    "test_page_logs_no_console_errors",
    "test_page_requests_nothing_that_fails",
    "test_page_load_time_is_within_threshold",
    "test_page_largest_contentful_paint_is_within_threshold",
    "test_page_layout_is_stable",
)


def browser_outcomes(run: GateRun) -> dict[str, str]:
    return {k: v for k, v in run.outcomes().items() if k.startswith(("test_browser", "test_flows"))}


def without_http_skips(outcomes: dict[str, str]) -> dict[str, str]:
    """The outcomes but the mixed-content check's, which is skipped on http pages."""
    return {k: v for k, v in outcomes.items() if "test_page_loads_nothing_insecure" not in k}


def run_with_env(
    run_gate: RunGate,
    tmp_path: Path,
    env_text: str,
    *args: str,
    name: str = "staging",
    variables: dict[str, str] | None = None,
) -> GateRun:
    """A gate run against an environment file written for the test (`--env NAME`)."""
    envs = tmp_path / "environments"
    write_env(envs, name, env_text)
    return run_gate(
        "--env", name, *args, env_vars={"RELEASEGATE_ENV_DIR": str(envs), **(variables or {})}
    )


def artefact_kinds(run: GateRun, check: str) -> set[str]:
    return {Path(a).name for a in run.check(check).artefacts}


def test_a_healthy_service_passes_every_page_check_and_flow(healthy_smoke_run: GateRun) -> None:
    """Every page check (desktop and phone) and both flows pass: GO, with the browser's timings
    and each flow step's duration recorded as measurements, and no artefacts kept."""
    run = healthy_smoke_run

    assert run.process.returncode == 0, run.output
    outcomes = browser_outcomes(run)
    assert set(without_http_skips(outcomes).values()) == {"passed"}
    for check in PAGE_CHECKS:
        assert f"test_browser_pages.py::{check}[/tickets@mobile-chromium]" in outcomes
    assert (
        "test_browser_pages.py::test_page_fits_a_phone_screen[/dashboard@mobile-chromium]"
        in outcomes
    )
    assert "test_flows.py::test_a_user_creates_edits_and_deletes_a_ticket[chromium]" in outcomes
    load = run.check("test_page_load_time_is_within_threshold[/tickets-chromium]").measurements
    assert {m.name for m in load} >= {"load", "time to first byte", "first contentful paint"}
    assert next(m for m in load if m.name == "load").threshold == 5000
    lcp = run.check("test_page_largest_contentful_paint_is_within_threshold[/-chromium]")
    assert 0 < (lcp.measurements[0].value or 0) <= 2500
    steps = run.check("test_a_user_creates_edits_and_deletes_a_ticket[chromium]").measurements
    assert [m.name for m in steps] == [
        "step: sign in",
        "step: open the tickets",
        "step: create a ticket",
        "step: see it in the list",
        "step: edit it",
        "step: delete it",
    ]
    assert all(c.artefacts == [] for c in run.results.checks)
    assert decide(run.results).verdict is Verdict.GO


def test_a_js_error_fails_the_console_check_with_a_screenshot(
    run_gate: RunGate, start_service: StartService
) -> None:
    """js-error: every page's console check fails naming the page and the error; the other page
    checks pass; the screenshot, trace, HAR and console log are kept and on the reports."""
    service = start_service("js-error")

    run = run_gate("--env", "local", "--base-url", service.base_url, "-k", "browser_pages")

    failed = {k for k, v in without_http_skips(browser_outcomes(run)).items() if v != "passed"}
    assert failed == {
        f"test_browser_pages.py::test_page_logs_no_console_errors[{page}-chromium]"
        for page in (
            "/",
            "/login",
            "/dashboard",
            "/dashboard@mobile",
            "/tickets",
            "/tickets@mobile",
        )
    }
    check = run.check("test_page_logs_no_console_errors[/dashboard-chromium]")
    assert check.outcome == "failed"
    assert "pageerror: releasegate reference service: js-error fault is on" in check.message
    assert f"page /dashboard ({service.base_url}/dashboard, env=local)" in check.message
    assert artefact_kinds(run, "test_page_logs_no_console_errors[/dashboard-chromium]") == {
        "screenshot.png",
        "trace.zip",
        "network.har",
        "console.log",
    }
    for artefact in check.artefacts:
        assert (run.run_dir / artefact).stat().st_size > 0
    assert "js-error fault is on" in (run.run_dir / check.artefacts[-1]).read_text()
    html = (run.run_dir / "report.html").read_text()
    assert html.count("&#34;name&#34;: &#34;Screenshot&#34;") == 6  # inline, one per failure
    allure = [
        json.loads(p.read_text()) for p in (run.run_dir / "allure-results").glob("*-result.json")
    ]
    console = next(r for r in allure if r["name"] == check.title)  # Allure names it by title
    assert {a["name"] for a in console["attachments"]} >= {"Screenshot", "Playwright trace"}
    assert decide(run.results).verdict is Verdict.ROLLBACK


SLOW_PAGE = """
[target]
base_url = "{url}"
read_only = true

[browser]
load_max = "1s"

[[pages]]
path = "/dashboard"
expect_text = "Dashboard"
"""


def test_a_slow_page_fails_its_load_time_check(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """slow-page=1.5s against a 1 s threshold: the load-time check fails with both figures;
    the page still loads, so its other checks pass."""
    service = start_service("slow-page=1.5s")
    run = run_with_env(
        run_gate, tmp_path, SLOW_PAGE.format(url=service.base_url), "-k", "browser_pages"
    )

    check = run.check("test_page_load_time_is_within_threshold[/dashboard-chromium]")
    assert check.outcome == "failed", run.output
    assert re.search(r"page load \d+(\.\d+)? s", check.message)  # 1.5 s or more on a busy machine
    assert "exceeds 1 s" in check.message
    load = next(m for m in check.measurements if m.name == "load")
    assert (load.value or 0) >= 1500
    assert load.threshold == 1000
    assert "screenshot.png" in artefact_kinds(
        run, "test_page_load_time_is_within_threshold[/dashboard-chromium]"
    )
    assert run.check("test_page_loads_in_the_browser[/dashboard-chromium]").outcome == "passed"
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_a_broken_flow_fails_at_its_step_naming_what_the_page_said(
    run_gate: RunGate, start_service: StartService
) -> None:
    """The API behind the tickets form answers 500: the tickets flow fails at 'create a ticket'
    with the form's message; signing in (no API call) still passes; a screenshot is kept."""
    service = start_service("error-ratio=1.0")

    run = run_gate("--env", "local", "--base-url", service.base_url, "-k", "flows")

    flow = run.check("test_a_user_creates_edits_and_deletes_a_ticket[chromium]")
    assert flow.outcome == "failed", run.output
    assert "flow 'tickets', step 'create a ticket'" in flow.message
    assert f"at {service.base_url}/tickets" in flow.message
    assert "the form says 'Could not create the ticket: internal server error" in flow.message
    assert run.check("test_a_user_signs_in_and_sees_the_dashboard[chromium]").outcome == "passed"
    assert artefact_kinds(run, "test_a_user_creates_edits_and_deletes_a_ticket[chromium]") == {
        "screenshot.png",
        "trace.zip",
        "network.har",
        "console.log",
    }
    console = next(a for a in flow.artefacts if a.endswith("console.log"))
    assert "POST" in (run.run_dir / console).read_text()
    assert [m.name for m in flow.measurements][-1] == "step: create a ticket"
    assert decide(run.results).verdict is Verdict.ROLLBACK
    assert screenshot_width_in_html_report(run, "test_a_user_creates_edits_and_deletes") > 0


def screenshot_width_in_html_report(run: GateRun, test_name: str) -> int:
    """Open report.html as a person would (Chromium, from disk): the width of the screenshot
    shown in the row of `test_name`, 0 when it is not visible."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(locate_chromium().path))
        try:
            page = browser.new_page()
            page.goto((run.run_dir / "report.html").as_uri())
            image = page.locator("tbody.results-table-row", has_text=test_name).locator("img")
            image.first.wait_for(state="visible", timeout=10_000)
            return int(image.first.evaluate("img => img.naturalWidth"))
        finally:
            browser.close()


MISSING_TEXT = """
[target]
base_url = "{url}"
read_only = true

[[pages]]
path = "/dashboard"
expect_text = "Quarterly revenue"
"""


def test_a_missing_expected_text_fails_the_content_check(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """The content check names the missing text and what the page shows instead."""
    run = run_with_env(
        run_gate, tmp_path, MISSING_TEXT.format(url=healthy_service.base_url), "-k", "browser_pages"
    )

    check = run.check("test_page_shows_its_expected_content[/dashboard-chromium]")
    assert check.outcome == "failed", run.output
    assert "expected text 'Quarterly revenue' is not visible" in check.message
    assert "the page shows title 'Dashboard" in check.message
    assert "screenshot.png" in artefact_kinds(
        run, "test_page_shows_its_expected_content[/dashboard-chromium]"
    )
    assert run.check("test_page_logs_no_console_errors[/dashboard-chromium]").outcome == "passed"


def test_no_browser_is_inconclusive_not_a_failure(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """With no Chromium anywhere, every browser check is an error (could not measure) saying
    how to install one: HOLD. The HTTP checks still pass."""
    empty = tmp_path / "empty"
    empty.mkdir()
    python_bin = str(Path(sys.executable).parent)

    run = run_gate(
        "--env",
        "local",
        "--base-url",
        healthy_service.base_url,
        env_vars={"PATH": python_bin, "PLAYWRIGHT_BROWSERS_PATH": str(empty)},
    )

    outcomes = browser_outcomes(run)
    assert outcomes
    assert set(outcomes.values()) == {"error"}, run.output
    message = run.check("test_page_loads_in_the_browser[/-chromium]").message
    assert "no Chromium found" in message
    assert "apt-get install chromium" in message
    assert run.check("test_page[/dashboard]").outcome == "passed"
    assert decide(run.results).verdict is Verdict.HOLD
    assert "verdict: HOLD" in run.output


READ_ONLY = """
[target]
base_url = "{url}"
read_only = true

[browser]
flows = ["*"]

[browser.login]
username = "demo"
password = "demo-password"
"""


def test_flows_that_write_are_skipped_on_a_read_only_environment(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """The ticket flow changes data: skipped with the reason; signing in still runs."""
    env_text = READ_ONLY.format(url=healthy_service.base_url)

    run = run_with_env(run_gate, tmp_path, env_text, "-k", "flows", name="prod")

    tickets = run.check("test_a_user_creates_edits_and_deletes_a_ticket[chromium]")
    assert tickets.outcome == "skipped"
    assert "env=prod is read-only" in tickets.message
    assert run.check("test_a_user_signs_in_and_sees_the_dashboard[chromium]").outcome == "passed"


def test_flows_run_only_where_the_environment_lists_them(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """A flow is written for one application: an environment that lists none runs none."""
    run = run_with_env(run_gate, tmp_path, MISSING_TEXT.format(url=healthy_service.base_url))

    outcomes = browser_outcomes(run)
    assert any(check.startswith("test_browser_pages.py") for check in outcomes)
    assert not any(check.startswith("test_flows.py") for check in outcomes)


def test_the_browser_checks_can_be_left_out_by_marker(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess
) -> None:
    """`-m "smoke and not browser"`: the HTTP smoke checks alone."""
    run = run_gate(
        "--env", "local", "--base-url", healthy_service.base_url, marker="smoke and not browser"
    )

    assert browser_outcomes(run) == {}
    assert run.check("test_page[/dashboard]").outcome == "passed"
    assert run.results.run.stages_requested == ["smoke"]


def test_parallel_workers_each_drive_a_browser(
    run_gate: RunGate, start_service: StartService
) -> None:
    """`-n 2`: one browser per worker, the same outcomes as a serial run."""
    service = start_service("js-error")

    serial = run_gate("--env", "local", "--base-url", service.base_url, "-k", BROWSER_CHECKS)
    parallel = run_gate(
        "--env", "local", "--base-url", service.base_url, "-k", BROWSER_CHECKS, "-n", "2"
    )

    assert browser_outcomes(parallel) == browser_outcomes(serial)
    assert "failed" in set(browser_outcomes(serial).values())
    assert {c.worker for c in parallel.results.checks} == {"gw0", "gw1"}
    failed = [c for c in parallel.results.checks if c.outcome == "failed"]
    assert all("screenshot.png" in {Path(a).name for a in c.artefacts} for c in failed)


PLANTED_TOKEN = "planted-Token-51c7e2"
PLANTED_COOKIE = "planted-Cookie-9a0d44"
# the reference service's demo password, taken from a variable: a secret typed into a field
PLANTED_PASSWORD = "demo-password"

SECRETS = """
[target]
base_url = "{url}"
read_only = false

[browser]
artefacts = "always"
flows = ["*"]
headers = {{ Authorization = "Bearer ${{PLANTED_TOKEN}}" }}
cookies = {{ preview_access = "${{PLANTED_COOKIE}}" }}

[browser.login]
username = "demo"
password = "${{PLANTED_PASSWORD}}"

[[pages]]
path = "/tickets"
expect_text = "Tickets"
"""


def every_file_unzipped(directory: Path) -> dict[str, bytes]:
    """Every file under `directory`, and every member of every zip (a trace), by name."""
    found: dict[str, bytes] = {}
    for path in directory.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found[str(path)] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    found[f"{path}!{name}"] = archive.read(name)
    return found


def test_no_secret_reaches_a_screenshot_trace_har_or_log(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """A secret sent as the Authorization header, one set as a cookie and one typed as the
    password are in no artefact (traces unzipped), no report and not the terminal; the
    artefacts show the header and cookie were recorded, masked."""
    service = start_service(api_token=PLANTED_TOKEN)
    run = run_with_env(
        run_gate,
        tmp_path,
        SECRETS.format(url=service.base_url),
        "-k",
        BROWSER_CHECKS,
        variables={
            "PLANTED_TOKEN": PLANTED_TOKEN,
            "PLANTED_COOKIE": PLANTED_COOKIE,
            "PLANTED_PASSWORD": PLANTED_PASSWORD,
        },
    )

    outcomes = without_http_skips(browser_outcomes(run))
    assert set(outcomes.values()) == {"passed"}, run.output  # the secrets worked
    files = every_file_unzipped(run.run_dir.parent)
    assert any(name.endswith("trace.zip!trace.network") for name in files)
    for secret in (PLANTED_TOKEN, PLANTED_COOKIE, PLANTED_PASSWORD):
        leaks = [name for name, data in files.items() if secret.encode() in data]
        assert leaks == [], f"{secret} found in {leaks}"
        assert secret not in run.output
    har_path = next(p for p in run.run_dir.rglob("network.har") if "tickets" in str(p.parent))
    entries = json.loads(har_path.read_text())["log"]["entries"]
    sent = {h["name"].lower(): h["value"] for e in entries for h in e["request"]["headers"]}
    assert sent["authorization"] == MASK
    assert any(c["value"] == MASK for e in entries for c in e["request"]["cookies"])


# An application without a favicon: Chromium asks for /favicon.ico by itself and logs its 404
# as a console error of the page. That is not the page's error; an image the page asks for is.

NO_FAVICON_PAGES = {
    "/": b"<!doctype html><html><head><title>Shop</title></head><body>"
    b"<h1>Tom &amp; Jerry</h1><p>Hello <b>world</b></p></body></html>",
    "/broken": b"<!doctype html><html><head><title>Broken</title></head><body>"
    b'<p>Gallery</p><img src="/missing.png" alt="x"></body></html>',
}


class _NoFaviconHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = NO_FAVICON_PAGES.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the test reads the gate's evidence, not the server's log


class _LoopbackServer(ThreadingHTTPServer):
    # the default backlog of 5 makes Chromium's parallel connections wait ~1 s to retry
    request_queue_size = 128
    daemon_threads = True


@pytest.fixture
def no_favicon_app() -> Iterator[str]:
    """A small loopback application with two pages and no /favicon.ico; its base URL."""
    server = _LoopbackServer(("127.0.0.1", 0), _NoFaviconHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


NO_FAVICON_ENV = """
[target]
base_url = "{url}"

[[pages]]
path = "/"
expect_text = "Tom & Jerry"

[[pages]]
path = "/broken"
"""


def test_a_missing_favicon_is_not_a_console_error_but_a_missing_image_is(
    run_gate: RunGate, no_favicon_app: str, tmp_path: Path
) -> None:
    """The page of an app without a favicon passes its console check (the browser's own
    request); a page whose own <img> answers 404 still fails it, naming the image. The HTTP
    page check finds "Tom & Jerry" in `Tom &amp; Jerry`."""
    run = run_with_env(
        run_gate,
        tmp_path,
        NO_FAVICON_ENV.format(url=no_favicon_app),
        "-k",
        "test_page_logs_no_console_errors or test_page_requests or test_endpoints",
    )

    home = run.check("test_page_logs_no_console_errors[/-chromium]")
    assert home.outcome == "passed", run.output
    assert run.check("test_page[/]").outcome == "passed", run.output
    broken = run.check("test_page_logs_no_console_errors[/broken-chromium]")
    assert broken.outcome == "failed", run.output
    assert "status of 404" in broken.message
    assert f"{no_favicon_app}/missing.png" in broken.message
    assert "favicon" not in broken.message
    requests = run.check("test_page_requests_nothing_that_fails[/broken-chromium]")
    assert requests.outcome == "failed"
    assert f"GET {no_favicon_app}/missing.png answered 404" in requests.message
