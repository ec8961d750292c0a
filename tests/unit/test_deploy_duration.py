"""The deploy's duration from its watch timeline, judged against `[watch] max_duration`; the
timeline's recorded limit, read from new files and absent from old ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasegate.ops.watch import (
    SCHEMA,
    StoppedBy,
    Timeline,
    clock,
    deploy_duration,
    judge_duration,
    read_timeline,
)
from releasegate.outcome import Judgement

FIVE_MINUTES = 300.0


def timeline(
    started: float | None = 1.0,
    ended: float | None = 373.0,
    *,
    stopped_by: StoppedBy = "command",
    command_exit: int | None = 0,
    max_duration_s: float | None = None,
) -> Timeline:
    return Timeline(
        environment="staging",
        target_url="http://target.test",
        command="./deploy.sh v1.4.2",
        started_at="2026-12-04T10:00:00+00:00",
        command_started_t=started,
        command_ended_t=ended,
        command_exit=command_exit,
        stopped_by=stopped_by,
        rate_per_s=2.0,
        duration_s=(ended or 0.0) + 3.0,
        max_duration_s=max_duration_s,
    )


@pytest.mark.parametrize(
    ("watched", "judgement", "message"),
    [
        pytest.param(
            timeline(1.0, 43.0),
            Judgement.PASS,
            "the deploy took 42s, within max_duration 5m",
            id="within",
        ),
        pytest.param(
            timeline(1.0, 301.0),
            Judgement.PASS,
            "the deploy took 5m, within max_duration 5m",
            id="exactly-the-limit",
        ),
        pytest.param(
            timeline(1.0, 373.0, max_duration_s=1800.0),
            Judgement.FAIL,
            "the deploy took 6m 12s, over max_duration 5m",
            id="over",
        ),
        pytest.param(
            timeline(1.0, 373.0, command_exit=3),
            Judgement.FAIL,
            "the deploy took 6m 12s, over max_duration 5m",
            id="over-and-failed",
        ),
        pytest.param(
            timeline(1.0, 301.2, stopped_by="max_duration", command_exit=-15),
            Judgement.FAIL,
            "the deploy did not finish within max_duration 5m: the command was stopped after 5m",
            id="stopped-old-timeline",
        ),
        pytest.param(
            timeline(1.0, 301.2, stopped_by="max_duration", max_duration_s=FIVE_MINUTES),
            Judgement.FAIL,
            "the deploy did not finish within max_duration 5m: the command was stopped after 5m",
            id="stopped",
        ),
        pytest.param(
            timeline(1.0, 61.0, stopped_by="max_duration", max_duration_s=60.0),
            Judgement.FAIL,
            "the deploy did not finish: the command was stopped at the watch's --max-duration"
            " 1m, after 1m ([watch] max_duration 5m)",
            id="stopped-by-a-shorter-override",
        ),
        pytest.param(
            timeline(1.0, None),
            Judgement.INCONCLUSIVE,
            "the timeline has no end time of the deploy command: how long it took is unknown",
            id="no-end-time",
        ),
        pytest.param(
            timeline(None, None, stopped_by="interrupted"),
            Judgement.INCONCLUSIVE,
            "the timeline has no end time of the deploy command: how long it took is unknown",
            id="interrupted-before-the-command",
        ),
        pytest.param(
            timeline(1.0, 121.0, stopped_by="interrupted"),
            Judgement.INCONCLUSIVE,
            "the watch was interrupted 2m into the deploy, before it finished",
            id="interrupted",
        ),
        pytest.param(
            timeline(1.0, 601.0, stopped_by="interrupted", max_duration_s=1800.0),
            Judgement.FAIL,
            "the deploy took 10m, over max_duration 5m",
            id="interrupted-already-over",
        ),
        pytest.param(
            timeline(1.0, 1.0, stopped_by="not_started", command_exit=None),
            Judgement.INCONCLUSIVE,
            "the deploy command did not start: './deploy.sh v1.4.2'",
            id="not-started",
        ),
    ],
)
def test_judge_duration(watched: Timeline, judgement: Judgement, message: str) -> None:
    """Within the limit passes, over it or stopped at it fails with the figure, a timeline that
    cannot tell how long the deploy took is inconclusive."""
    judged = judge_duration(watched, FIVE_MINUTES)

    assert (judged.judgement, judged.message) == (judgement, message)
    assert judged.where == "http://target.test"


def test_the_duration_is_the_commands_not_the_watchs() -> None:
    """The probing before and after the command is the watch's time, not the deploy's."""
    watched = timeline(1.0, 299.5)

    assert deploy_duration(watched) == 298.5
    assert judge_duration(watched, FIVE_MINUTES).ok
    assert judge_duration(watched, FIVE_MINUTES).measured == 298.5
    assert deploy_duration(timeline(1.0, None)) is None
    assert deploy_duration(timeline(None, 5.0)) is None


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        pytest.param(0.04, "0s", id="instant"),
        pytest.param(1.0, "1s", id="one"),
        pytest.param(1.26, "1.3s", id="tenths"),
        pytest.param(9.96, "10s", id="rounds-up"),
        pytest.param(42.4, "42s", id="seconds"),
        pytest.param(300.0, "5m", id="minutes"),
        pytest.param(372.0, "6m 12s", id="minutes-seconds"),
        pytest.param(3600.0, "1h 0m", id="an-hour"),
        pytest.param(3725.0, "1h 2m 5s", id="hours"),
    ],
)
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


def test_the_timeline_records_its_limit_and_old_files_still_read(tmp_path: Path) -> None:
    """`max_duration_s` is written; a file written before it existed reads as None."""
    new = tmp_path / "new.json"
    timeline(max_duration_s=FIVE_MINUTES).write(new)
    old = tmp_path / "old.json"
    raw = {"schema": SCHEMA, **json.loads(new.read_text())}
    del raw["max_duration_s"]
    old.write_text(json.dumps(raw))

    assert read_timeline(new).max_duration_s == FIVE_MINUTES
    assert read_timeline(old).max_duration_s is None
    assert read_timeline(old).command_ended_t == 373.0
