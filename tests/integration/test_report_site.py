"""The report site: built from real runs, opened from disk in a real Chromium (Playwright)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.report.site import build_site
from tests.integration.conftest import ROOT, RunGate, StartService

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTEFACTS = ROOT / "reports" / "test-artefacts"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real runs against the reference service: a healthy one and a degraded one."""
    from releasegate.target.process import ReferenceServiceProcess
    from tests.integration.conftest import gate_argv, run_in_repo

    reports = tmp_path_factory.mktemp("site") / "reports"
    with ReferenceServiceProcess() as healthy:
        run_in_repo(
            gate_argv(
                "--env",
                "local",
                "--base-url",
                healthy.base_url,
                reports=reports,
                run_id="20260101T000000Z-local-good",
            )
        )
    with ReferenceServiceProcess(faults=["health=degraded:database"]) as sick:
        run_in_repo(
            gate_argv(
                "--env",
                "local",
                "--base-url",
                sick.base_url,
                reports=reports,
                run_id="20260101T000100Z-local-sick",
            )
        )
    built = build_site(reports, allure=False)
    assert built.runs == 2
    return built.out


def test_the_index_lists_runs_newest_first_with_their_verdicts(site: Path) -> None:
    """One row per run, newest first, with verdict, and the trend charts."""
    index = (site / "index.html").read_text()

    rows = re.findall(r'<td class="verdict verdict-(\w+)">', index)
    assert rows == ["ROLLBACK", "GO"]
    assert index.index("local-sick") < index.index("local-good")
    objectives = index[index.index('data-testid="objectives" data-env="local"') :]
    assert objectives.count('data-testid="objective-chart"') >= 2  # the smoke gate's LCP, CLS
    assert "largest contentful paint (LCP) (ms)" in objectives
    assert "objective (&lt;= 2500 ms)" in objectives  # the objective line's legend


def test_a_run_page_shows_the_verdict_and_the_reasons_in_plain_words(site: Path) -> None:
    """The ROLLBACK page names the failing service; the GO page says every gate passed."""
    sick = (site / "runs" / "20260101T000100Z-local-sick" / "index.html").read_text()
    good = (site / "runs" / "20260101T000000Z-local-good" / "index.html").read_text()

    assert 'data-verdict="ROLLBACK"' in sick
    assert "unhealthy services {&#39;database&#39;: &#39;degraded&#39;}" in sick
    assert 'data-verdict="GO"' in good
    assert "every blocking check passed" in good
    assert (site / "runs" / "20260101T000000Z-local-good" / "report.html").is_file()


def test_the_site_loads_nothing_from_a_network(site: Path) -> None:
    """No script, style or image points off the machine (charts are inline SVG)."""
    for page in site.rglob("index.html"):
        text = page.read_text()
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', text)
        assert external == [], (page, external)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium not found; .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium); runs in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield launched
        launched.close()


@pytest.mark.parametrize(
    ("run_id", "verdict"),
    [("20260101T000100Z-local-sick", "ROLLBACK"), ("20260101T000000Z-local-good", "GO")],
)
def test_a_person_sees_the_verdict_in_a_real_browser(
    site: Path, browser: object, run_id: str, verdict: str
) -> None:
    """Chromium renders the run page: banner visible and right, charts drawn, no console
    errors, and every request stays on the machine (file: or data: URLs only)."""
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))

    page.goto((site / "runs" / run_id / "index.html").as_uri())
    banner = page.get_by_test_id("verdict-banner")
    page.goto((site / "index.html").as_uri())
    rows = page.get_by_test_id("run-row").count()
    page.goto((site / "runs" / run_id / "index.html").as_uri())

    assert banner.is_visible()
    assert banner.get_attribute("data-verdict") == verdict
    assert page.locator("h1").first.inner_text().endswith(verdict)  # a word beside the icon
    assert page.locator('[data-testid="chart"] svg').count() >= 1
    assert rows == 2
    assert errors == []
    assert {url.split(":", 1)[0] for url in requests} <= {"file", "data"}
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"run-page-{verdict}.png"), full_page=True)
    page.close()


def test_the_environment_filter_hides_other_environments(site: Path, browser: object) -> None:
    """Choosing an environment that has no runs hides every row; 'all' shows them again."""
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto((site / "index.html").as_uri())

    page.get_by_test_id("env-filter").select_option("local")
    visible_local = page.locator('[data-testid="run-row"]:visible').count()
    page.evaluate("document.querySelector('#env-filter').add(new Option('prod', 'prod'))")
    page.get_by_test_id("env-filter").select_option("prod")
    visible_prod = page.locator('[data-testid="run-row"]:visible').count()

    assert (visible_local, visible_prod) == (2, 0)
    page.close()


def test_allure_html_is_rendered_when_node_is_there(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """With `npm ci` done, each run page links an offline Allure report."""
    from releasegate.report.allure_render import find_allure

    if find_allure(ROOT) is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Allure not installed; ./dev runs npm ci")
        pytest.skip("no node_modules/.bin/allure (run npm ci)")
    service = start_service()
    run = run_gate("--env", "local", "--base-url", service.base_url)

    built = build_site(run.run_dir.parent, tmp_path / "site")

    allure = tmp_path / "site" / "runs" / run.run_dir.name / "allure" / "index.html"
    assert built.notes == []
    assert allure.is_file()
    assert 'href="allure/index.html"' in (allure.parent.parent / "index.html").read_text()


def test_a_metric_checks_chart_is_drawn_beside_its_check(
    browser: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A `[[metrics]]` check's measurements, charted in the row under the check: Chromium draws
    the SVG (one dot per number, the threshold line), with no console error or request off the
    machine."""
    from datetime import UTC, datetime

    from releasegate.evidence.results import (
        CheckResult,
        Measurement,
        Results,
        RunInfo,
        write_atomically,
    )

    reports = tmp_path_factory.mktemp("metric-site") / "reports"
    check = CheckResult(
        id="suites/post_deploy/test_post_deploy_metrics.py::test_metric[cache hit rate]",
        stage="post_deploy",
        outcome="failed",
        cause="product",
        measurements=[
            Measurement(
                name=f"cache hit rate #{n}",
                value=value,
                threshold="result >= 0.8",
                source="prometheus",
                at=f"2026-12-04T13:43:{10 * n:02d}.000+00:00",
                outcome=outcome,
                note="no series" if value is None else "",
            )
            for n, (value, outcome) in enumerate(
                [(0.93, "success"), (0.71, "failure"), (None, "inconclusive")], 1
            )
        ],
    )
    info = RunInfo(
        id="20261204T134300Z-local-metrics",
        environment="local",
        target_url="http://127.0.0.1:1",
        started_at=datetime(2026, 12, 4, 13, 43, tzinfo=UTC),
        finished_at=datetime(2026, 12, 4, 13, 44, tzinfo=UTC),
        tool_version="0",
        stages_requested=["post_deploy"],
        status="finished",
        complete=True,
        pytest_exit_status=1,
    )
    write_atomically(
        reports / info.id / "results.json", Results(run=info, checks=[check]).to_json()
    )
    built = build_site(reports, allure=False)
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))

    page.goto((built.out / "runs" / info.id / "index.html").as_uri())
    chart = page.get_by_test_id("metric-chart")

    assert chart.get_attribute("data-check") == "Metric (cache hit rate)"
    assert chart.locator("svg").is_visible()
    assert chart.locator("circle.dot:not([r='0'])").count() == 2
    assert chart.locator("text.label", has_text="result >= 0.8").is_visible()
    assert page.get_by_test_id("metric-unplotted").locator("td", has_text="no series").count() == 1
    assert errors == []
    assert {url.split(":", 1)[0] for url in requests} <= {"file", "data"}
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "run-page-metric-chart.png"), full_page=True)
    page.close()


SICK = "20260101T000100Z-local-sick"
GOOD = "20260101T000000Z-local-good"


def test_the_rollback_page_answers_why_and_what_changed_above_the_fold(
    site: Path, browser: object
) -> None:
    """On a laptop screen, without scrolling: the verdict, the failing check by its title, and
    what changed since the last GO (the check that went from passed to failed); the check's
    node id is one click away; the objectives are charted beside the last GO with their line."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.goto((site / "runs" / SICK / "index.html").as_uri())
    fold = 800
    reasons = page.get_by_test_id("reasons")
    changed = page.get_by_test_id("changed-outcomes")
    failing = page.locator('[data-testid="check"][data-outcome="failed"]').first
    node_id = failing.get_by_test_id("node-id")
    hidden_before = node_id.is_visible()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "site-rollback-above-the-fold.png"))
    failing.locator("details.node-id > summary").click()

    assert reasons.bounding_box()["y"] < fold  # type: ignore[index]
    assert changed.bounding_box()["y"] + 20 < fold  # type: ignore[index]
    assert "passed → failed" in changed.inner_text()
    title = failing.get_by_test_id("check-title").inner_text()
    assert title in reasons.inner_text()
    assert "::" not in title
    assert not title.startswith("test_")
    assert (hidden_before, node_id.is_visible()) == (False, True)
    assert "::test_" in node_id.inner_text()
    charts = page.get_by_test_id("objective-chart")
    assert charts.count() >= 2
    assert charts.locator("text", has_text="last GO").count() >= 1
    assert charts.locator("text", has_text="objective (<=").count() >= 1
    page.close()


def test_the_first_go_says_there_is_nothing_to_compare_with(site: Path) -> None:
    good = (site / "runs" / GOOD / "index.html").read_text()

    assert 'data-testid="no-previous-go"' in good


@pytest.mark.parametrize("page_name", ["index", "rollback run", "go run"])
def test_a_page_fits_a_phone_and_axe_finds_nothing_serious(
    site: Path, browser: object, page_name: str
) -> None:
    """At 390 px the page does not scroll sideways (wide tables scroll in their box), and
    axe-core finds no serious or critical violation; a full-page screenshot is kept."""
    from releasegate.browser.accessibility import listed, run_axe

    path = {
        "index": site / "index.html",
        "rollback run": site / "runs" / SICK / "index.html",
        "go run": site / "runs" / GOOD / "index.html",
    }[page_name]
    page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(path.as_uri())
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    violations = run_axe(page)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTEFACTS / f"site-{page_name.replace(' ', '-')}-390px.png"), full_page=True
    )
    page.close()

    assert scroll <= client, f"{page_name}: {scroll} px wide on a {client} px screen"
    assert violations == [], listed(violations)
