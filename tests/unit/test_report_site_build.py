"""The site builder on hand-made runs: artefacts, unreadable evidence, number formatting, and
the uptime pages of `releasegate monitor`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.evidence.results import (
    CheckResult,
    Measurement,
    Results,
    RunInfo,
    write_atomically,
)
from releasegate.ops.monitor.uptime_history import CheckRecord, MonitorSettings, UptimeHistory
from releasegate.ops.monitor.uptime_tracker import Tracker
from releasegate.report.model import format_measurement
from releasegate.report.site import build_site
from releasegate.report.summary import RunSummary
from tests.report_runs import staging_environments, write_run


@pytest.fixture(autouse=True)
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment the hand-made runs name: the site masks with its secrets."""
    envs = staging_environments(tmp_path / "environments")
    monkeypatch.setenv("RELEASEGATE_ENV_DIR", str(envs))
    return envs


def test_artefacts_are_copied_and_linked(tmp_path: Path) -> None:
    """A check's screenshot is copied beside the run page and linked from it."""
    run_dir = write_run(
        tmp_path,
        "r1",
        [
            CheckResult(
                id="suites/smoke/test_ui.py::test_login",
                stage="smoke",
                outcome="failed",
                cause="product",
                message="login button missing",
                artefacts=["artefacts/login.png"],
            ),
        ],
    )
    (run_dir / "artefacts").mkdir()
    (run_dir / "artefacts" / "login.png").write_bytes(b"\x89PNG")

    build_site(tmp_path, allure=False)

    page_dir = tmp_path / "site" / "runs" / "r1"
    assert (page_dir / "artefacts" / "artefacts" / "login.png").read_bytes() == b"\x89PNG"
    assert 'href="artefacts/artefacts/login.png"' in (page_dir / "index.html").read_text()


def test_each_failed_check_lists_its_own_artefacts_and_a_shared_screenshot_is_shown_once(
    tmp_path: Path,
) -> None:
    """Checks judging one page visit share its files: each failed check lists them under
    itself (the trace with the command that opens it), the screenshot is a picture under the
    first and a link under the others."""
    shared = [
        "artefacts/visit-x/screenshot.png",
        "artefacts/visit-x/trace.zip",
        "artefacts/visit-x/network.har",
        "artefacts/visit-x/console.log",
    ]
    run_dir = write_run(
        tmp_path,
        "r1",
        [
            CheckResult(
                id=f"suites/smoke/test_b.py::{name}[/x]",
                stage="smoke",
                outcome="failed",
                artefacts=shared,
            )
            for name in ("test_console", "test_lcp")
        ],
    )
    (run_dir / "artefacts" / "visit-x").mkdir(parents=True)
    for name in ("screenshot.png", "trace.zip", "network.har", "console.log"):
        (run_dir / "artefacts" / "visit-x" / name).write_bytes(b"x")

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    assert page.count('<img src="artefacts/artefacts/visit-x/screenshot.png"') == 1
    assert page.count("the same visit: shown above") == 1
    assert page.count('href="artefacts/artefacts/visit-x/trace.zip"') == 2
    assert page.count("playwright show-trace artefacts/artefacts/visit-x/trace.zip") == 2
    assert page.count('data-kind="har"') == 2
    assert page.count('data-kind="console"') == 2


def test_a_load_run_links_locusts_report_and_charts_load_over_time(tmp_path: Path) -> None:
    report = "load/locust-report.html"
    run_dir = write_run(
        tmp_path,
        "r1",
        [
            CheckResult(
                id="suites/load/test_load.py::test_rps",
                stage="load",
                outcome="passed",
                artefacts=[report],
            )
        ],
    )
    (run_dir / "load").mkdir()
    (run_dir / report).write_text("<html>locust</html>")
    (run_dir / "load" / "locust_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%\n"
        "100,5,,Aggregated,10.0,0,3,9\n"
        "101,10,,Aggregated,20.0,0,4,12\n"
    )

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    gate = page[page.index('data-stage="load"') :]
    assert 'href="artefacts/load/locust-report.html">Locust report' in gate
    assert page.count("locust-report.html") == 1  # once, under the load gate
    assert "Load over time" in page
    assert "<svg" in page


def test_slo_percentiles_are_charted_with_their_intervals_and_the_baseline(tmp_path: Path) -> None:
    p95 = [
        Measurement(
            name="p95", value=120.0, unit="ms", threshold=500.0, comparison="<=", source="synthetic"
        ),
        Measurement(name="p95 interval low", value=110.0, unit="ms"),
        Measurement(name="p95 interval high", value=131.0, unit="ms"),
    ]
    ratio = [Measurement(name="GET /x median vs baseline", value=1.5, unit="x", threshold=1.2)]
    write_run(
        tmp_path,
        "r1",
        [
            CheckResult(
                id="suites/slo/test_s.py::test_p95", stage="slo", outcome="passed", measurements=p95
            ),
            CheckResult(
                id="suites/slo/test_s.py::test_base",
                stage="slo",
                outcome="failed",
                measurements=ratio,
            ),
        ],
    )

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    assert "SLO latency (ms, log scale)" in page
    assert "synthetic p95" in page
    assert "Median latency against the baseline" in page
    assert "GET /x" in page


def metric_check(name: str, condition: str, values: list[float | None]) -> CheckResult:
    """A `test_metric[<name>]` check as the plugin records it: one measurement every 10 s."""
    return CheckResult(
        id=f"suites/post_deploy/test_post_deploy_metrics.py::test_metric[{name}]",
        stage="post_deploy",
        outcome="passed",
        measurements=[
            Measurement(
                name=f"{name} #{n}",
                value=value,
                threshold=condition,
                source="prometheus",
                at=f"2026-12-04T13:43:{12 + 10 * n}.558+00:00",
                outcome="inconclusive" if value is None else "success",
                note="the query returned no series" if value is None else "holds",
            )
            for n, value in enumerate(values, 1)
        ],
    )


def test_a_metric_checks_measurements_are_charted_under_the_check(tmp_path: Path) -> None:
    """The run page draws the series right below its check's row (before the next check's),
    one point per measurement, with the condition's threshold line."""
    write_run(
        tmp_path,
        "r1",
        [
            metric_check("cache hit rate", "result >= 0.8", [0.93, 0.91, 0.95]),
            CheckResult(id="suites/smoke/test_z.py::test_last", stage="smoke", outcome="passed"),
        ],
    )

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    row = page.index('<span data-testid="check-title">Metric (cache hit rate)</span>')
    chart = page.index('data-testid="metric-chart" data-check="Metric (cache hit rate)"')
    figure = page[chart : page.index("</figure>", chart)]
    assert row < chart < page.index('data-testid="node-id"', row)  # in the check's entry
    assert figure.count('class="label">✓</text>') == 3  # each point's mark
    assert ">threshold</text>" in figure
    assert 'class="label">result &gt;= 0.8</text>' in figure
    assert "Success when <code>result &gt;= 0.8</code>: the dark line." in figure
    assert "cache hit rate: 3 measurements: 3 success (chart below)" in page


def test_a_measurement_without_a_number_is_listed_under_the_chart(tmp_path: Path) -> None:
    """No data is not a point: it is a row with its outcome and note; a condition that is not
    a comparison with a number is the caption, with no line."""
    write_run(tmp_path, "r1", [metric_check("errors", "result - before <= 0", [0.0, None, 1.0])])

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    unplotted = page[page.index('data-testid="metric-unplotted"') :]
    assert page.count('data-testid="metric-chart"') == 1
    assert '<td>2</td><td class="measurement-inconclusive">? inconclusive</td>' in unplotted
    assert "<td>no data</td><td>the query returned no series</td>" in unplotted
    assert "(no line: not a comparison of <code>result</code> with one number)" in page
    assert ">threshold</text>" not in page


UNREACHABLE = CheckResult(
    id="suites/smoke/test_health.py::test_health",
    stage="smoke",
    outcome="error",
    cause="unreachable",
    message="GET https://s.example/api/health: connection refused after 3 attempts",
)


@pytest.mark.parametrize(
    ("run", "headline"),
    [
        pytest.param(
            {"reachability": {"evidence": "the canary answered 204 now"}},
            "The target could not be reached, and the runner's network works",
            id="down-with-evidence",
        ),
        pytest.param(
            {"policy": {"on_inconclusive": "rollback"}},
            "the policy turns missing evidence into a rollback",
            id="fail-safe-policy",
        ),
    ],
)
def test_a_rollback_without_a_failed_check_says_why(
    tmp_path: Path, run: dict[str, object], headline: str
) -> None:
    """A ROLLBACK on an unreachable target, or by the fail-safe policy, does not claim that a
    check failed: the banner says what the verdict rests on."""
    write_run(tmp_path, "r1", [UNREACHABLE], **run)

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    assert 'data-verdict="ROLLBACK"' in page
    assert headline in page.replace("&#39;", "'")
    assert "a blocking check failed" not in page
    assert ">unreachable<" in page


def test_a_run_without_readable_evidence_is_shown_as_hold(tmp_path: Path) -> None:
    """A truncated results.json still gets a row and a page: HOLD, saying why."""
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.json").write_text('{"schema": "releasegate.results/1", "r')

    built = build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "runs" / "broken" / "index.html").read_text()
    assert built.runs == 1
    assert 'data-verdict="HOLD"' in page
    assert "not valid JSON" in page


def test_measurements_read_like_numbers_people_write() -> None:
    """Whole numbers without decimals, lists as alternatives, the unit on both sides."""
    latency = Measurement(name="latency", value=59.66, unit="ms", threshold=5000.0, comparison="<=")
    status = Measurement(name="status", value=500.0, threshold=[200, 204], comparison="in")

    assert format_measurement(latency) == "latency 59.7 ms (<= 5000 ms)"
    assert format_measurement(status) == "status 500 (in 200 or 204)"


# --- uptime pages (releasegate monitor) -----------------------------------------------------


def write_monitor(reports: Path, pattern: str, objective: float = 0.999) -> Path:
    """A monitor's folder under `reports` with an uptime.json for `pattern` ("up down ? up")."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    outcomes = {"up": "up", "down": "down", "?": "unknown"}
    checks = [
        CheckRecord(
            number=n,
            started_at=start + timedelta(minutes=5 * (n - 1)),
            duration_s=3.0,
            outcome=outcomes[word],  # type: ignore[arg-type]
            run_id=f"check-{n:04d}",
            reason="health down" if word == "down" else "",
        )
        for n, word in enumerate(pattern.split(), start=1)
    ]
    tracker, _ = Tracker.replay(checks, alert_after=2)
    folder = reports / "monitors" / "20260101T000000Z-staging-ab12"
    UptimeHistory(
        id=folder.name,
        environment="staging",
        target_url="https://s.example",
        started_at=start,
        status="finished",
        settings=MonitorSettings(
            stages=["smoke"],
            every_s=300,
            for_s=3600,
            alert_after=2,
            objective=objective,
            check_timeout_s=600,
        ),
        checks=checks,
        incidents=tracker.incidents,
    ).write(folder / "uptime.json")
    return folder


def test_the_uptime_page_shows_availability_against_the_objective(tmp_path: Path) -> None:
    """3 up of the 5 checks that measured (the unknown one left out): 60.00%, missed."""
    folder = write_monitor(tmp_path, "up down down ? up up")

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "uptime" / folder.name / "index.html").read_text()
    assert "Availability <strong>60.00%</strong> against the objective 99.90%" in page
    assert "missed" in page


def test_the_uptime_page_lists_incidents_with_their_durations(tmp_path: Path) -> None:
    """An outage of two checks (10 min) and a blip (5 min), each with its duration."""
    folder = write_monitor(tmp_path, "up down down up down up")

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "uptime" / folder.name / "index.html").read_text()
    assert page.count('data-testid="incident" data-kind="outage"') == 1
    assert page.count('data-testid="incident" data-kind="blip"') == 1
    assert '<td data-testid="incident-duration">10 min</td>' in page
    assert '<td data-testid="incident-duration">5 min</td>' in page


def test_measurement_problems_are_counted_apart(tmp_path: Path) -> None:
    """Unknown checks have their own count on the page."""
    folder = write_monitor(tmp_path, "up ? ? up")

    build_site(tmp_path, allure=False)

    page = (tmp_path / "site" / "uptime" / folder.name / "index.html").read_text()
    assert '<td class="outcome-error" data-testid="measurement-problems">2</td>' in page


def test_the_index_links_the_uptime_section_only_when_there_are_monitors(tmp_path: Path) -> None:
    """No monitor: no Uptime link; one monitor: a link to uptime/index.html."""
    write_run(tmp_path, "r1", [])
    build_site(tmp_path, allure=False)
    before = (tmp_path / "site" / "index.html").read_text()
    write_monitor(tmp_path, "up")

    build_site(tmp_path, allure=False)

    assert 'href="uptime/index.html"' not in before
    assert 'href="uptime/index.html"' in (tmp_path / "site" / "index.html").read_text()


def test_a_monitors_check_runs_are_not_listed_as_runs(tmp_path: Path) -> None:
    """A check run under monitors/<id>/checks/ is the uptime page's evidence, not a release."""
    folder = write_monitor(tmp_path, "down")
    write_run(folder / "checks", "check-0001", [])

    built = build_site(tmp_path, allure=False)

    assert built.runs == 0


def test_a_failed_checks_evidence_is_copied_beside_the_uptime_page(tmp_path: Path) -> None:
    """The report of a check that was down is linked from its row."""
    folder = write_monitor(tmp_path, "down up")
    (folder / "checks" / "check-0001").mkdir(parents=True)
    (folder / "checks" / "check-0001" / "report.html").write_text("<html>why</html>")

    build_site(tmp_path, allure=False)

    page_dir = tmp_path / "site" / "uptime" / folder.name
    assert (page_dir / "checks" / "check-0001" / "report.html").read_text() == "<html>why</html>"
    assert 'href="checks/check-0001/report.html"' in (page_dir / "index.html").read_text()


def test_an_unreadable_history_is_listed_not_fatal(tmp_path: Path) -> None:
    """A broken uptime.json is named on the uptime list; the site is still built."""
    broken = tmp_path / "monitors" / "m-broken" / "uptime.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{")

    build_site(tmp_path, allure=False)

    assert "m-broken" in (tmp_path / "site" / "uptime" / "index.html").read_text()


# --- masking what the site publishes ---------------------------------------------------------

PLANTED = "planted-Site-Secret-5e1d"


def write_killed_run(reports: Path, envs: Path) -> Path:
    """A run of plain pytest killed before its scrub: the secret is in everything it left."""
    (envs / "secretive.toml").write_text(
        '[target]\nbase_url = "https://s.example"\nheaders = { X-Key = "${PLANTED_KEY}" }\n'
    )
    run_dir = reports / "killed"
    info = RunInfo(
        id="killed",
        environment="secretive",
        target_url="https://s.example",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        tool_version="0",
        stages_requested=["smoke"],
    )
    check = CheckResult(
        id="suites/smoke/test_endpoints.py::test_endpoint[/x]",
        stage="smoke",
        outcome="failed",
        message=f"GET /x?key={PLANTED} answered 500",
        artefacts=["artefacts/x/console.txt"],
    )
    write_atomically(run_dir / "results.json", Results(run=info, checks=[check]).to_json())
    (run_dir / "report.html").write_text(f"<td>key={PLANTED}</td>")
    (run_dir / "junit.xml").write_text(f"<failure>{PLANTED}</failure>")
    (run_dir / "artefacts" / "x").mkdir(parents=True)
    (run_dir / "artefacts" / "x" / "console.txt").write_text(f"token {PLANTED}\n")
    return run_dir


def site_files_with(site: Path, needle: str) -> list[Path]:
    return [p for p in site.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_the_site_masks_what_a_killed_run_left_unmasked(
    tmp_path: Path, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's environment is loaded again: its secret is masked in the copied report.html,
    junit.xml, results.json and artefact, and in the rendered page."""
    write_killed_run(tmp_path, staging)
    monkeypatch.setenv("PLANTED_KEY", PLANTED)

    built = build_site(tmp_path, allure=False)

    page_dir = built.out / "runs" / "killed"
    assert site_files_with(built.out, PLANTED) == []
    assert (page_dir / "report.html").read_text() == "<td>key=********</td>"
    assert "key=******** answered 500" in (page_dir / "index.html").read_text()
    assert (page_dir / "artefacts" / "artefacts" / "x" / "console.txt").is_file()


def test_a_run_whose_environment_cannot_be_loaded_publishes_no_raw_file(tmp_path: Path) -> None:
    """Without the environment's variable the secrets are unknown: the page shows the verdict
    and the checks' outcomes, says why nothing else is there, and no raw file is copied."""
    write_killed_run(tmp_path, tmp_path / "environments")

    built = build_site(tmp_path, allure=False)

    page_dir = built.out / "runs" / "killed"
    page = (page_dir / "index.html").read_text()
    assert site_files_with(built.out, PLANTED) == []
    # the page and the site's own summary of the run (no free text in it), no raw file
    assert sorted(p.name for p in page_dir.iterdir()) == ["index.html", "summary.json"]
    summary = RunSummary.model_validate_json((page_dir / "summary.json").read_text())
    assert summary.withheld
    assert summary.reasons == []
    assert all(c.message == "" for c in summary.checks)
    assert "are not published" in page
    assert "PLANTED_KEY" in page  # which variable was missing
    assert any("raw reports withheld" in note for note in built.notes)


def test_a_published_site_json_joins_the_index_and_gives_the_last_go(tmp_path: Path) -> None:
    """A CI job with one fresh run: the runs published before are listed, and the last GO to
    compare with is one of them."""
    from releasegate.report.summary import CheckSummary, RunSummary, SiteManifest

    check_id = "suites/smoke/test_a.py::test_home_answers"
    published = SiteManifest(
        runs=[
            RunSummary(
                run_id="20251231T000000Z-staging-old",
                environment="staging",
                verdict="GO",
                release_version="0.9.0",
                started_at=datetime(2025, 12, 31, tzinfo=UTC),
                checks=[
                    CheckSummary(id=check_id, title="Home answers", stage="smoke", outcome="passed")
                ],
            )
        ]
    ).model_dump_json(by_alias=True)
    write_run(
        tmp_path,
        "r1",
        [CheckResult(id=check_id, stage="smoke", outcome="failed", message="HTTP 500")],
        release_version="1.0.0",
    )

    build_site(tmp_path, allure=False, published=published)

    index = (tmp_path / "site" / "index.html").read_text()
    page = (tmp_path / "site" / "runs" / "r1" / "index.html").read_text()
    manifest = SiteManifest.model_validate_json((tmp_path / "site" / "site.json").read_text())
    assert index.count('data-testid="run-row"') == 2
    assert '20251231T000000Z-staging-old</a> <span class="muted">(published earlier)' in index
    assert 'href="../20251231T000000Z-staging-old/index.html"' in page
    assert "Home answers: passed → failed" in page
    assert "Release 0.9.0 (last GO) → 1.0.0 (this run)." in page
    assert [r.run_id for r in manifest.runs] == ["r1", "20251231T000000Z-staging-old"]


def test_a_published_site_json_that_is_not_ours_stops_the_build(tmp_path: Path) -> None:
    from releasegate.errors import SiteManifestUnreadable

    write_run(tmp_path, "r1", [])

    with pytest.raises(SiteManifestUnreadable):
        build_site(tmp_path, allure=False, published='{"runs": "nope"}')

    assert not (tmp_path / "site").exists()
