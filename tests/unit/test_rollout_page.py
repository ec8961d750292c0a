"""The report site's rollout pages, built from state files."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.ops.rollout.engine import (
    CommandRecord,
    Event,
    GateRecord,
    RolloutState,
    SoakRecord,
    StageState,
    state_saver,
)
from releasegate.ops.watch import ProbeRecord, Timeline
from releasegate.redact import Redactor
from releasegate.report.site import build_site


def held_rollout(reports: Path) -> RolloutState:
    folder = reports / "rollouts" / "r-held"
    timeline = Timeline(
        "prod", "https://shop.example", "soak", started_at="2026-11-23T10:00:05+00:00"
    )
    timeline.probes = [
        ProbeRecord(0.1, "/health", "after", 200, 12.0),
        ProbeRecord(0.2, "/health", "after", 503, 4.0),
    ]
    timeline.write(folder / "01-internal" / "soak-1.json")
    state = RolloutState(
        id="r-held",
        environment="prod",
        env_file="/repo/environments/prod.toml",
        plan="checkout",
        plan_file="/repo/rollout.toml",
        plan_digest="0" * 64,
        base_url="https://shop.example",
        base_url_sha256="0" * 64,
        release_version="1.4.2",
        status="held",
        reason="stage internal: gates: 2 checks could not measure",
        started_at="2026-11-23T10:00:00+00:00",
        stages=[
            StageState(
                name="internal",
                percent=0,
                status="held",
                verdict="HOLD",
                reason="gates: 2 checks could not measure",
                traffic=CommandRecord(
                    command="flagctl set staff", exit_code=0, started_at="2026-11-23T10:00:01+00:00"
                ),
                soaks=[
                    SoakRecord(
                        verdict="GO",
                        message="ok",
                        probes=2,
                        failed=1,
                        file="01-internal/soak-1.json",
                    )
                ],
                gates=[
                    GateRecord(
                        run_id="r-held-01-internal-1",
                        gates=["smoke"],
                        verdict="HOLD",
                        exit_code=2,
                        message="2 checks could not measure",
                    )
                ],
            ),
            StageState(name="everyone", percent=100),
        ],
        events=[Event(kind="hold", message="HOLD: stage internal", stage="internal")],
    )
    state_saver(folder / "state.json", Redactor.of(set()))(state)
    return state


@pytest.fixture
def site(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    held_rollout(reports)
    build_site(reports, allure=False)
    return reports / "site"


def test_rollout_page_shows_status_stages_and_reason(site: Path) -> None:
    page = (site / "rollouts" / "r-held" / "index.html").read_text()

    assert 'data-status="held"' in page
    assert page.count('data-testid="rollout-stage"') == 2
    assert "2 checks could not measure" in page


def test_rollout_page_charts_the_soak_probes(site: Path) -> None:
    page = (site / "rollouts" / "r-held" / "index.html").read_text()

    assert "<svg" in page
    assert "traffic: internal" in page


def test_gate_run_without_a_page_is_named_not_linked(site: Path) -> None:
    """The gate run's folder is gone (cleaned up): its label stays, with no dead link."""
    page = (site / "rollouts" / "r-held" / "index.html").read_text()

    assert "smoke: HOLD" in page
    assert "runs/r-held-01-internal-1" not in page


def test_index_lists_the_rollout(site: Path) -> None:
    index = (site / "index.html").read_text()

    assert 'href="rollouts/r-held/index.html"' in index
    assert "checkout on prod (release 1.4.2)" in index
