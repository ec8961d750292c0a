"""The monitor's core: the alert state machine, availability, the exit code, classification of
a check, the schedule, the history file and its [monitor] configuration."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.config import load_environment
from releasegate.errors import ConfigError, MonitorError, UptimeUnreadable
from releasegate.evidence.decision_file import NotificationRecord
from releasegate.ops.monitor.gate_check import GateCheck, GateCommand, GateRun, classify, run_gates
from releasegate.ops.monitor.uptime_history import (
    UPTIME_SCHEMA,
    AlertRecord,
    CheckRecord,
    MonitorSettings,
    Outcome,
    UptimeHistory,
    carry_over,
    read_uptime,
)
from releasegate.ops.monitor.uptime_session import Monitor, Schedule, run_schedule
from releasegate.ops.monitor.uptime_tracker import (
    Alert,
    MonitorExit,
    Tracker,
    alert_payload,
    availability,
    format_span,
    monitor_exit,
)
from releasegate.redact import MASK, Redactor

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SHORT = {"up": "up", "down": "down", "?": "unknown"}


def checks(pattern: str, minutes: float = 5.0) -> list[CheckRecord]:
    """`"up down ? up"` -> check records `minutes` apart from T0 (`?` is unknown)."""
    return [
        CheckRecord(
            number=n,
            started_at=T0 + timedelta(minutes=minutes * (n - 1)),
            duration_s=3.0,
            outcome=SHORT[word],  # type: ignore[arg-type]
            verdict={"up": "GO", "down": "ROLLBACK", "?": "HOLD"}[word],
            run_id=f"check-{n:04d}",
            reason=f"check {n} was {word}",
        )
        for n, word in enumerate(pattern.split(), start=1)
    ]


def events(pattern: str, alert_after: int = 2) -> list[str]:
    _, alerts = Tracker.replay(checks(pattern), alert_after)
    return [a.event for a in alerts]


def settings(alert_after: int = 2, objective: float = 0.999) -> MonitorSettings:
    return MonitorSettings(
        stages=["smoke"],
        every_s=300.0,
        for_s=86400.0,
        alert_after=alert_after,
        objective=objective,
        check_timeout_s=600.0,
    )


def history(pattern: str, *, alert_after: int = 2, objective: float = 0.999) -> UptimeHistory:
    records = checks(pattern)
    tracker, _ = Tracker.replay(records, alert_after)
    return UptimeHistory(
        id="20260101T120000Z-staging-ab12",
        environment="staging",
        target_url="https://staging.example.com",
        started_at=T0,
        settings=settings(alert_after, objective),
        checks=records,
        incidents=tracker.incidents,
    )


# --- the state machine ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "alert_after", "expected"),
    [
        pytest.param("up up up", 2, [], id="healthy-no-alert"),
        pytest.param("up down up up", 2, [], id="one-blip-no-alert"),
        pytest.param("down up", 2, [], id="blip-at-the-start-no-alert"),
        pytest.param("down down", 2, ["down"], id="n-failures-one-alert"),
        pytest.param("down down down down", 2, ["down"], id="longer-outage-still-one-alert"),
        pytest.param("down down up", 2, ["down", "recovered"], id="outage-then-recovery"),
        pytest.param("down ? down", 2, ["down"], id="unknown-inside-a-streak-does-not-break-it"),
        pytest.param("down ? ? up", 2, [], id="unknown-does-not-count-as-down"),
        pytest.param("? ? ?", 1, [], id="only-measurement-problems-no-alert"),
        pytest.param("down up", 1, ["down", "recovered"], id="alert-after-one"),
        pytest.param("down down up down up", 3, [], id="two-blips-below-n"),
        pytest.param(
            "down down up down down up",
            2,
            ["down", "recovered", "down", "recovered"],
            id="two-outages",
        ),
        pytest.param("down down ? up", 2, ["down", "recovered"], id="unknown-before-recovery"),
    ],
)
def test_alerts_on_state_changes_only(pattern: str, alert_after: int, expected: list[str]) -> None:
    """Down after `alert_after` failures in a row, recovered on the first success after an
    outage; blips and measurement problems raise nothing."""
    assert events(pattern, alert_after) == expected


def test_the_recovery_alert_carries_the_incident_duration() -> None:
    """The recovery alert spans from the first failed check to the first good one after it."""
    _, alerts = Tracker.replay(checks("up down down ? up", minutes=5), alert_after=2)

    recovered = alerts[-1]
    assert recovered.event == "recovered"
    assert recovered.since == T0 + timedelta(minutes=5)
    assert recovered.duration_s == 15 * 60
    assert recovered.consecutive_failures == 2


def test_the_down_alert_names_the_streak_and_the_latest_reason() -> None:
    """The down alert says since when, how many failures in a row, and what the last said."""
    _, alerts = Tracker.replay(checks("up down down"), alert_after=2)

    assert alerts == [
        Alert(
            event="down",
            at=T0 + timedelta(minutes=10),
            since=T0 + timedelta(minutes=5),
            duration_s=300.0,
            consecutive_failures=2,
            reason="check 3 was down",
        )
    ]


def test_a_blip_is_recorded_as_an_unconfirmed_incident() -> None:
    """A failure that recovers before alert_after is kept, as a blip, with its duration."""
    tracker, _ = Tracker.replay(checks("up down up"), alert_after=2)

    [blip] = tracker.incidents
    assert (blip.confirmed, blip.failed_checks, blip.duration_s) == (False, 1, 300.0)


@pytest.mark.parametrize(
    ("pattern", "state"),
    [
        pytest.param("", "unknown", id="nothing-yet"),
        pytest.param("? ?", "unknown", id="only-measurement-problems"),
        pytest.param("up ?", "up", id="up-then-unknown"),
        pytest.param("up down", "failing", id="streak-below-n"),
        pytest.param("up down ? down", "down", id="confirmed"),
        pytest.param("down down up", "up", id="recovered"),
    ],
)
def test_the_state(pattern: str, state: str) -> None:
    """The state after a sequence of checks."""
    tracker, _ = Tracker.replay(checks(pattern), alert_after=2)

    assert tracker.state == state


def test_alert_after_must_be_at_least_one() -> None:
    """A tracker that would alert before any failure is refused."""
    with pytest.raises(ValueError, match="alert_after must be >= 1"):
        Tracker(0)


# --- availability and the exit code --------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("up up up up", 1.0, id="all-up"),
        pytest.param("up up up down", 0.75, id="one-in-four-down"),
        pytest.param("up ? ? down", 0.5, id="unknown-left-out"),
        pytest.param("? ?", None, id="nothing-measured"),
        pytest.param("", None, id="no-checks"),
    ],
)
def test_availability_is_up_over_measured_checks(pattern: str, expected: float | None) -> None:
    """Up checks over up + down; measurement problems are neither."""
    assert availability(checks(pattern)) == expected


@pytest.mark.parametrize(
    ("pattern", "objective", "code"),
    [
        pytest.param("up up up up", 0.999, MonitorExit.UP, id="up-objective-met"),
        pytest.param("up down up up", 0.75, MonitorExit.UP, id="exactly-at-the-objective"),
        pytest.param("up down up up", 0.8, MonitorExit.DOWN, id="below-the-objective"),
        pytest.param("up up down", 0.5, MonitorExit.DOWN, id="ended-failing"),
        pytest.param("up down down ?", 0.1, MonitorExit.DOWN, id="ended-down-then-unknown"),
        pytest.param("? ? ?", 0.999, MonitorExit.NO_EVIDENCE, id="every-check-unknown"),
        pytest.param("", 0.999, MonitorExit.NO_EVIDENCE, id="no-checks"),
    ],
)
def test_the_exit_code(pattern: str, objective: float, code: MonitorExit) -> None:
    """0 up and at the objective, 1 ended down or below it, 2 nothing measured."""
    assert monitor_exit(history(pattern, objective=objective)) is code


def test_999_of_1000_meets_a_99_9_percent_objective_written_as_in_the_docs() -> None:
    """`"99.9%"` parses to 0.9990000000000001; exactly 99.9 % available still meets it."""
    from releasegate.units import parse_ratio

    pattern = " ".join(["up"] * 500 + ["down"] + ["up"] * 499)

    assert monitor_exit(history(pattern, objective=parse_ratio("99.9%"))) is MonitorExit.UP


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.85, "850 ms"),
        (4.04, "4.0 s"),
        (45, "45 s"),
        (185, "3 min 5 s"),
        (300, "5 min"),
        (7440, "2 h 4 min"),
        (86400, "1 d"),
        (97200, "1 d 3 h"),
    ],
)
def test_spans_read_like_people_write_them(seconds: float, text: str) -> None:
    """Incident lengths are written in the largest two units."""
    assert format_span(seconds) == text


# --- classifying one check -----------------------------------------------------------------


def gate(verdict: str | None, exit_code: int | None = 0, reason: str = "r") -> GateRun:
    return GateRun(
        run_id="check-0001",
        exit_code=exit_code,
        verdict=verdict,
        reason=reason,
        duration_s=3.0,
        timeout_s=600.0,
        log_tail="Traceback: boom",
    )


def answers(problem: str | None) -> Callable[[], str | None]:
    return lambda: problem


def never() -> str | None:
    raise AssertionError("not to be asked")


SILENT = answers("connection refused")
FINE = answers(None)


@pytest.mark.parametrize(
    ("run", "target", "canary", "outcome", "why"),
    [
        pytest.param(gate("GO"), never, never, "up", "r", id="go-is-up-asks-nothing"),
        pytest.param(gate("ROLLBACK", 1), never, None, "down", "r", id="rollback-is-down"),
        pytest.param(gate("ROLLBACK", 1), never, FINE, "down", "r", id="rollback-canary-fine"),
        pytest.param(
            gate("ROLLBACK", 1), never, never, "down", "r",
            id="rollback-is-down-without-asking-the-canary",
        ),
        pytest.param(
            gate("HOLD", 2), FINE, never, "unknown", "could not measure",
            id="hold-target-answers-is-a-measurement-problem",
        ),
        pytest.param(
            gate("HOLD", 2), SILENT, None, "down", "target unreachable",
            id="hold-target-silent-no-canary-is-down",
        ),
        pytest.param(
            gate("HOLD", 2), SILENT, FINE, "down", "target unreachable",
            id="hold-target-silent-canary-fine-is-down",
        ),
        pytest.param(
            gate("HOLD", 2), SILENT, SILENT, "unknown", "cannot reach its network",
            id="hold-nothing-answers-is-a-measurement-problem",
        ),
        pytest.param(
            gate(None, None), never, never, "unknown", "did not finish within 10 min",
            id="timeout",
        ),
        pytest.param(
            gate(None, 1), never, never, "unknown", "crashed (exit 1): Traceback: boom",
            id="crash-without-decision",
        ),
        pytest.param(
            gate("GO", -9), never, never, "unknown", "crashed (exit -9)", id="killed",
        ),
    ],
)  # fmt: skip
def test_classify(
    run: GateRun,
    target: Callable[[], str | None],
    canary: Callable[[], str | None] | None,
    outcome: Outcome,
    why: str,
) -> None:
    """A check's outcome from the gates' verdict, the target's and the canary's answers."""
    found, reason = classify(run, target=target, canary=canary)

    assert (found, why in reason) == (outcome, True), reason


def fake_python(tmp_path: Path, body: str) -> str:
    """An executable that stands in for `python -m releasegate run ...`."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def command(tmp_path: Path, python: str, timeout_s: float = 30.0) -> GateCommand:
    return GateCommand(
        env_file=tmp_path / "staging.toml",
        stages=["smoke"],
        checks_dir=tmp_path / "checks",
        logs_dir=tmp_path / "logs",
        timeout_s=timeout_s,
        python=python,
    )


def test_a_gate_run_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    """A gate run that hangs is ended at check_timeout and has no exit code."""
    python = fake_python(tmp_path, "exec sleep 30")

    run = run_gates(command(tmp_path, python, timeout_s=0.5), "check-0001", Redactor())

    assert (run.exit_code, run.verdict, run.duration_s < 10) == (None, None, True)


def test_a_gate_run_refusing_its_configuration_stops_the_monitor(tmp_path: Path) -> None:
    """Exit 3 from the gate run is not a target failure: the monitor stops, saying why."""
    python = fake_python(tmp_path, "echo 'releasegate: error: staging.toml: bad key'; exit 3")

    with pytest.raises(MonitorError, match="refused its configuration: releasegate: error"):
        GateCheck(command(tmp_path, python), Redactor())(1)


def test_the_gate_run_command_line() -> None:
    """Each check is a real `releasegate run`, its run under the monitor's folder, unnotified."""
    argv = GateCommand(
        env_file=Path("/e/staging.toml"),
        stages=["smoke", "slo"],
        checks_dir=Path("/r/monitors/m/checks"),
        logs_dir=Path("/r/monitors/m/logs"),
        timeout_s=600.0,
        base_url="https://canary.example.com",
    ).argv("check-0007")

    assert argv[1:] == [
        "-m", "releasegate", "run", "--env", "/e/staging.toml", "--stage", "smoke",
        "--stage", "slo", "--run-id", "check-0007", "--reports-dir", "/r/monitors/m/checks",
        "--suites", "suites", "--no-notify", "--base-url", "https://canary.example.com",
    ]  # fmt: skip


# --- the schedule --------------------------------------------------------------------------


class FakeTime:
    """A monotonic clock that only moves when a check runs or the monitor waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.starts: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return False

    def check(self, takes: float) -> Callable[[int], None]:
        def run(number: int) -> None:
            self.starts.append(self.now)
            self.now += takes

        return run


def schedule(fake: FakeTime, plan: Schedule, takes: float) -> str:
    return run_schedule(
        plan, fake.check(takes), clock=fake.clock, wait=fake.wait, stopped=lambda: False
    )


def test_checks_start_every_interval_until_the_time_is_up() -> None:
    """A check every 10 s for 35 s: four checks, at 0, 10, 20 and 30 s."""
    fake = FakeTime()

    ended = schedule(fake, Schedule(every_s=10, for_s=35), takes=2)

    assert (ended, fake.starts) == ("for", [0, 10, 20, 30])


def test_max_checks_bounds_the_monitor() -> None:
    """--max-checks ends the monitor after that many checks, whatever `for` says."""
    fake = FakeTime()

    ended = schedule(fake, Schedule(every_s=1, for_s=86400, max_checks=3), takes=0.5)

    assert (ended, len(fake.starts)) == ("max_checks", 3)


def test_an_overrunning_check_delays_the_next_without_overlap_or_burst() -> None:
    """Checks of 25 s every 10 s start back to back, never two at once, no catching up."""
    fake = FakeTime()

    schedule(fake, Schedule(every_s=10, for_s=100), takes=25)

    assert fake.starts == [0, 25, 50, 75]


def test_a_stop_ends_the_schedule_while_waiting() -> None:
    """Ctrl-C (or SIGTERM) during the wait between checks ends the monitor at once."""
    fake = FakeTime()

    ended = run_schedule(
        Schedule(every_s=10, for_s=100),
        fake.check(1),
        clock=fake.clock,
        wait=lambda seconds: True,
        stopped=lambda: False,
    )

    assert (ended, fake.starts) == ("interrupted", [0])


# --- the monitor and its history -----------------------------------------------------------


def new_history(alert_after: int = 2) -> UptimeHistory:
    return UptimeHistory(
        id="m1",
        environment="staging",
        target_url="https://staging.example.com",
        started_at=T0,
        settings=settings(alert_after),
    )


def scripted(pattern: str, path: Path, seen: list[int]) -> Callable[[int], CheckRecord]:
    """A check function that plays `pattern`, noting how many checks the file held each time."""
    records = checks(pattern)

    def check(number: int) -> CheckRecord:
        seen.append(len(json.loads(path.read_text())["checks"]))
        return records[number - 1]

    return check


def run_monitor(tmp_path: Path, pattern: str, sent: list[Alert]) -> tuple[UptimeHistory, list[int]]:
    path = tmp_path / "uptime.json"
    seen: list[int] = []

    def send(alert: Alert) -> NotificationRecord:
        sent.append(alert)
        return NotificationRecord(url="https://hooks.example/x", format="json", delivered=True)

    fake = FakeTime()
    monitor = Monitor(new_history(), path, scripted(pattern, path, seen), send)
    done = monitor.run(
        Schedule(every_s=1, for_s=3600, max_checks=len(pattern.split())),
        wait=fake.wait,
        stopped=lambda: False,
        clock=fake.clock,
    )
    return done, seen


def test_the_history_is_written_after_every_check(tmp_path: Path) -> None:
    """Before check N starts, uptime.json already holds the N - 1 checks before it."""
    _, seen = run_monitor(tmp_path, "up down down up", [])

    assert seen == [0, 1, 2, 3]


def test_the_monitor_sends_each_alert_once_and_records_it(tmp_path: Path) -> None:
    """A flapping then failing target: one down alert, one recovery, both in the history."""
    sent: list[Alert] = []

    done, _ = run_monitor(tmp_path, "up down up down down down up", sent)

    assert [a.event for a in sent] == ["down", "recovered"]
    assert [a.event for a in done.alerts] == ["down", "recovered"]
    assert [i.confirmed for i in done.incidents] == [False, True]
    assert (done.status, done.stopped_by) == ("finished", "max_checks")


def test_the_history_round_trips(tmp_path: Path) -> None:
    """What is written is read back equal, its summary computed."""
    written = history("up down down up ?").model_copy(
        update={
            "alerts": [
                AlertRecord(
                    event="down",
                    at=T0,
                    since=T0,
                    duration_s=0.0,
                    consecutive_failures=2,
                    reason="r",
                    notification=NotificationRecord(
                        url="https://h.example", format="json", delivered=False, error="x"
                    ),
                )
            ]
        }
    )
    written.write(tmp_path / "uptime.json")

    read = read_uptime(tmp_path / "uptime.json")

    assert read == written.summarised()
    assert read.summary is not None
    assert (read.summary.up, read.summary.down, read.summary.unknown) == (2, 2, 1)


def test_the_history_file_is_versioned(tmp_path: Path) -> None:
    """The file names its schema."""
    history("up").write(tmp_path / "uptime.json")

    assert json.loads((tmp_path / "uptime.json").read_text())["schema"] == UPTIME_SCHEMA


def test_secrets_never_reach_the_history_file(tmp_path: Path) -> None:
    """Every secret of the environment is masked in uptime.json."""
    leaky = history("down").model_copy(
        update={"target_url": "https://user:planted-Secret-77aa@staging.example.com"}
    )

    leaky.write(tmp_path / "uptime.json", Redactor.of(["planted-Secret-77aa"]))

    text = (tmp_path / "uptime.json").read_text()
    assert "planted-Secret-77aa" not in text
    assert MASK in text


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{", id="truncated"),
        pytest.param('{"schema": "releasegate.timeline/1"}', id="another-document"),
    ],
)
def test_an_unreadable_history_says_why(tmp_path: Path, content: str) -> None:
    """A broken or foreign uptime.json is refused with the file's name."""
    (tmp_path / "uptime.json").write_text(content)

    with pytest.raises(UptimeUnreadable, match=r"uptime\.json"):
        read_uptime(tmp_path / "uptime.json")


def test_the_json_alert_payload() -> None:
    """A json webhook gets the event, the environment, since when, how long, and a link."""
    alert = Alert("recovered", T0 + timedelta(minutes=9), T0, 540.0, 3, "health down")

    payload = alert_payload(
        alert,
        environment="prod",
        target_url="https://p.example",
        monitor_id="m1",
        style="json",
        link="https://site.example/uptime/m1/index.html",
    )

    assert payload == {
        "event": "recovered",
        "environment": "prod",
        "target": "https://p.example",
        "monitor": "m1",
        "at": "2026-01-01T12:09:00+00:00",
        "since": "2026-01-01T12:00:00+00:00",
        "duration_s": 540.0,
        "consecutive_failures": 3,
        "reason": "health down",
        "link": "https://site.example/uptime/m1/index.html",
    }


def test_the_slack_alert_payload_says_down_in_words() -> None:
    """A Slack webhook gets one readable message."""
    alert = Alert("down", T0, T0, 300.0, 2, "health down")

    payload = alert_payload(
        alert, environment="prod", target_url=None, monitor_id="m1", style="slack", link="L"
    )

    assert "`prod` is DOWN: 2 failed checks in a row" in payload["text"]


# --- [monitor] in the environment file -----------------------------------------------------

BASE = '[target]\nbase_url = "https://staging.example.com"\n'


def load(tmp_path: Path, monitor: str) -> object:
    (tmp_path / "staging.toml").write_text(BASE + "[monitor]\n" + monitor, encoding="utf-8")
    return load_environment("staging", tmp_path, {}).model.monitor


def test_monitor_defaults(tmp_path: Path) -> None:
    """Without a [monitor] table: smoke every 5 minutes for a day, alert after 2, 99.9 %."""
    (tmp_path / "staging.toml").write_text(BASE, encoding="utf-8")

    config = load_environment("staging", tmp_path, {}).model.monitor

    assert (config.every, config.for_, config.stages, config.alert_after) == (
        300.0,
        86400.0,
        ["smoke"],
        2,
    )
    assert (config.objective, config.check_timeout, config.canary_url) == (0.999, 600.0, None)


def test_monitor_keys_are_parsed(tmp_path: Path) -> None:
    """Durations, the `for` keyword and a percentage objective are read as numbers."""
    config = load(tmp_path, 'every = "30s"\nfor = "2h"\nobjective = "99.5%"\n')

    assert (config.every, config.for_, config.objective) == (30.0, 7200.0, 0.995)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("monitor", "message"),
    [
        pytest.param(
            'every = "soon"\n',
            "staging.toml: monitor.every expected a duration such as '5s' or '500ms'",
            id="bad-every",
        ),
        pytest.param(
            "alert_after = 0\n",
            "staging.toml: monitor.alert_after must be >= 1 (got 0)",
            id="alert-after-zero",
        ),
        pytest.param(
            'stages = ["smok"]\n', "staging.toml: monitor.stages[0] must be one of", id="stage"
        ),
        pytest.param("stages = []\n", "monitor.stages must list at least 1", id="no-stage"),
        pytest.param(
            'fro = "1h"\n', "monitor.fro: unknown key; did you mean 'for'?", id="typo-of-for"
        ),
        pytest.param(
            "objective = 99.9\n",
            "monitor.objective a ratio must be between 0 and 1",
            id="objective-as-a-bare-percent",
        ),
        pytest.param(
            'canary_url = "ftp://x"\n', "monitor.canary_url must be an http", id="canary-url"
        ),
    ],
)
def test_monitor_config_errors_are_one_line(tmp_path: Path, monitor: str, message: str) -> None:
    """A bad [monitor] key is one line naming the file, the key and the problem."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, monitor)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_sys_executable_runs_the_gates_by_default() -> None:
    """The gate run uses this interpreter, so it finds the same releasegate."""
    command = GateCommand(
        env_file=Path("e.toml"),
        stages=["smoke"],
        checks_dir=Path("c"),
        logs_dir=Path("l"),
        timeout_s=1.0,
    )

    assert command.argv("x")[0] == sys.executable


# --- one monitor after another ---------------------------------------------------------------


def previous(tmp_path: Path, pattern: str, *, ended_after_s: float | None = None) -> datetime:
    """Write a finished monitor with `pattern`'s checks (5 min apart from T0) under
    tmp_path/monitors; return when it ended."""
    done = history(pattern)
    ended = T0 + timedelta(seconds=ended_after_s or 300.0 * len(pattern.split()))
    done = done.model_copy(update={"finished_at": ended, "status": "finished"})
    done.write(tmp_path / "monitors" / done.id / "uptime.json")
    return ended


def next_monitor(**changes: object) -> UptimeHistory:
    return history("").model_copy(update={"id": "20260101T130000Z-staging-cd34", **changes})


def test_an_outage_open_at_the_end_goes_on_in_the_next_monitor(tmp_path: Path) -> None:
    """Down at the end of one monitor: the next one carries it, sends no second down alert,
    and its recovery alert counts from the outage's first failed check."""
    ended = previous(tmp_path, "up down down down")
    carried = carry_over(tmp_path / "monitors", next_monitor(), ended + timedelta(minutes=5))
    assert carried is not None
    tracker = Tracker(2, [carried])
    tracker.known = 1

    again = tracker.observe("down", ended + timedelta(minutes=5))
    back = tracker.observe("up", ended + timedelta(minutes=10))

    assert again is None
    assert back is not None
    assert back.event == "recovered"
    assert back.since == T0 + timedelta(minutes=5)
    assert carried.carried_from == "20260101T120000Z-staging-ab12"


@pytest.mark.parametrize(
    ("pattern", "gap_min", "changes"),
    [
        ("up down down up", 5, {}),
        ("up down down", 60, {}),
        ("up down down", 5, {"environment": "prod"}),
        ("up down down", 5, {"target_url": "https://other.example.com"}),
    ],
    ids=["recovered-before-it-ended", "ended-an-hour-ago", "other-environment", "other-target"],
)
def test_nothing_is_carried_over_when_it_does_not_apply(
    tmp_path: Path, pattern: str, gap_min: int, changes: dict[str, object]
) -> None:
    ended = previous(tmp_path, pattern)

    carried = carry_over(
        tmp_path / "monitors", next_monitor(**changes), ended + timedelta(minutes=gap_min)
    )

    assert carried is None


def test_a_carried_blip_becomes_an_outage_at_alert_after(tmp_path: Path) -> None:
    """One failure at the end of the last monitor, one at the start of this: the down alert
    goes out (two in a row), counted from the first."""
    ended = previous(tmp_path, "up up down")
    carried = carry_over(tmp_path / "monitors", next_monitor(), ended + timedelta(minutes=1))
    assert carried is not None
    tracker = Tracker(2, [carried])
    tracker.known = 1

    alert = tracker.observe("down", ended + timedelta(minutes=1))

    assert alert is not None
    assert (alert.event, alert.consecutive_failures, alert.since) == (
        "down",
        2,
        T0 + timedelta(minutes=10),
    )
