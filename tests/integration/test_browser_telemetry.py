"""Error tracking and analytics in a real Chromium against real servers: the reference service's
pages send their envelope and page view to its own collector (which the tests read back), a
triggered error reaches the tracker, `beacon=off` fails both with ROLLBACK naming the pattern,
and a page sending a forbidden request fails naming it."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import GateRun, RunGate, StartService, run_in_repo, write_env
from tests.loopback_server import LoopbackServer, QuietHandler

pytestmark = pytest.mark.skipif(
    not (os.environ.get("RELEASEGATE_CHROMIUM") or shutil.which("chromium")),
    reason="no Chromium here (CI installs Debian's chromium package)",
)

EXPECTED = "test_page_sends_the_expected_requests"
ERROR_FLOW = "test_an_error_in_the_page_reaches_the_error_tracker[chromium]"
PAGES = ("/", "/login", "/dashboard", "/dashboard@mobile", "/tickets", "/tickets@mobile")


def decide(run: GateRun) -> dict[str, object]:
    """`releasegate decide RUN_DIR` as an operator would run it: its decision.json."""
    decided = run_in_repo([sys.executable, "-m", "releasegate", "decide", str(run.run_dir)])
    assert decided.returncode in (0, 1, 2), decided.stdout + decided.stderr
    record: dict[str, object] = json.loads((run.run_dir / "decision.json").read_text())
    return record


def test_a_healthy_service_sends_what_its_pages_expect(healthy_smoke_run: GateRun) -> None:
    """Every reference page sends its envelope and page view; the error-tracking flow passes;
    the mixed-content check is skipped on these http pages, saying why."""
    run = healthy_smoke_run

    for page in PAGES:
        check = run.check(f"{EXPECTED}[{page}-chromium]")
        assert check.outcome == "passed", check.message
        assert check.measurements[0].value == 2
    assert run.check(ERROR_FLOW).outcome == "passed"
    insecure = run.check("test_page_loads_nothing_insecure[/dashboard-chromium]")
    assert insecure.outcome == "skipped"
    assert "served over http: nothing it loads is mixed content" in insecure.message


def test_a_triggered_error_reaches_the_collector(
    run_gate: RunGate, start_service: StartService
) -> None:
    """The error flow's error arrives at the service's collector as an error envelope, beside
    the session and the page view sent on load (read back from /_admin/collected)."""
    service = start_service()

    run = run_gate("--env", "local", "--base-url", service.base_url, "-k", "error_tracker")

    assert run.check(ERROR_FLOW).outcome == "passed", run.output
    collected = httpx.get(
        f"{service.base_url}/_admin/collected",
        headers={"Authorization": f"Bearer {service.admin_token}"},
        timeout=10,
    ).json()["received"]
    kinds = {(item["endpoint"], item["kind"]) for item in collected}
    assert kinds == {("envelope", "session"), ("event", "pageview"), ("envelope", "event")}
    error = next(item for item in collected if item["kind"] == "event")
    assert error["message"] == "Error: releasegate test error: please ignore"
    assert error["url"] == f"{service.base_url}/"


def test_without_beacons_the_pages_and_the_error_flow_fail_with_rollback(
    run_gate: RunGate, start_service: StartService
) -> None:
    """beacon=off: each page's expected-requests check fails naming the patterns and listing
    what the page sent; the error flow fails naming its pattern; `releasegate decide` says
    ROLLBACK."""
    service = start_service("beacon=off")

    # one page (both variants) is enough: each missing beacon is waited for, 2 s per visit
    checks = f"{EXPECTED} and dashboard or error_tracker"
    run = run_gate("--env", "local", "--base-url", service.base_url, "-k", checks)

    check = run.check(f"{EXPECTED}[/dashboard-chromium]")
    assert check.outcome == "failed", run.output
    assert "no request matching '*/api/*/envelope/*', '*/api/event' was sent" in check.message
    assert f"GET {service.base_url}/static/app.js 200" in check.message
    assert f"page /dashboard ({service.base_url}/dashboard, env=local)" in check.message
    assert run.check(f"{EXPECTED}[/dashboard@mobile-chromium]").outcome == "failed"
    flow = run.check(ERROR_FLOW)
    assert flow.outcome == "failed"
    assert "flow 'error-tracking', step 'trigger an error'" in flow.message
    assert "no request matching '*/api/*/envelope/*'" in flow.message
    assert "carrying 'releasegate test error: please ignore'" in flow.message
    decision = decide(run)
    assert decision["verdict"] == "ROLLBACK"
    failed = {reason["check"] for reason in decision["reasons"]}  # type: ignore[attr-defined]
    assert f"suites/smoke/test_browser_pages.py::{EXPECTED}[/dashboard-chromium]" in failed


# A page of another application: it loads a script from its own origin and calls a
# development API it must not call from here.
FORBIDDEN_PAGE = b"""<!doctype html><html lang="en"><head><title>Shop</title>
<script src="/shop.js" defer></script></head><body><main><h1>Shop</h1></main></body></html>"""
FORBIDDEN_SCRIPT = b'fetch("/dev-api/v1/cart?debug=1").catch(() => {});'


class _ShopHandler(QuietHandler):
    def do_GET(self) -> None:
        routes = {
            "/": (FORBIDDEN_PAGE, "text/html"),
            "/shop.js": (FORBIDDEN_SCRIPT, "text/javascript"),
            "/dev-api/v1/cart?debug=1": (b"{}", "application/json"),
            "/favicon.ico": (b"", "image/x-icon"),
        }
        body, kind = routes.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if self.path in routes else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def shop() -> Iterator[str]:
    """The small shop application on loopback; its base URL."""
    server = LoopbackServer(_ShopHandler)
    server.server.request_queue_size = 128
    try:
        yield server.base
    finally:
        server.close()


SHOP_ENV = """
[target]
base_url = "{url}"
read_only = true

[[pages]]
path = "/"
expect_text = "Shop"
forbid_requests = ["*/dev-api/*", "https://api.dev.example.com/*"]
"""


def test_a_page_sending_a_forbidden_request_fails_naming_it(
    run_gate: RunGate, shop: str, tmp_path: Path
) -> None:
    """The page calls /dev-api/: its forbidden-requests check fails with the request, its
    status and the pattern it matches; its other checks pass."""
    envs = tmp_path / "environments"
    write_env(envs, "shop", SHOP_ENV.format(url=shop))

    run = run_gate(
        "--env", "shop", "-k", "browser_pages", env_vars={"RELEASEGATE_ENV_DIR": str(envs)}
    )

    check = run.check("test_page_sends_no_forbidden_requests[/-chromium]")
    assert check.outcome == "failed", run.output
    assert (
        f"1 forbidden request(s): GET {shop}/dev-api/v1/cart?debug=1 200 (matches '*/dev-api/*')"
        in check.message
    )
    assert run.check("test_page_logs_no_console_errors[/-chromium]").outcome == "passed"
    assert run.check("test_page_loads_in_the_browser[/-chromium]").outcome == "passed"


def test_the_reference_service_collects_nothing_without_beacons() -> None:
    """beacon=off leaves the telemetry script out of every page; healthy pages carry it."""
    with ReferenceServiceProcess(faults=["beacon=off"]) as off:
        off_page = httpx.get(f"{off.base_url}/dashboard", timeout=10).text
        off.set_faults([])
        on_page = httpx.get(f"{off.base_url}/dashboard", timeout=10).text

    assert "/static/telemetry.js" not in off_page
    assert '<script src="/static/telemetry.js" defer></script>' in on_page
