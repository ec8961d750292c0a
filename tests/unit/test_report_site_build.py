"""The site builder on hand-made runs: artefacts, unreadable evidence, number formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from releasegate.evidence import CheckResult, Measurement, Results, RunInfo, write_atomically
from releasegate.report.model import format_measurement
from releasegate.report.site import build_site


def write_run(reports: Path, run_id: str, checks: list[CheckResult]) -> Path:
    run_dir = reports / run_id
    info = RunInfo(
        id=run_id,
        environment="staging",
        target_url="https://s.example",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        finished_at=datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
        tool_version="0",
        stages_requested=["smoke"],
        status="finished",
        complete=True,
        pytest_exit_status=0,
    )
    write_atomically(run_dir / "results.json", Results(run=info, checks=checks).to_json())
    return run_dir


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
