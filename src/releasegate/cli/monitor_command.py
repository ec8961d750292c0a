"""`releasegate monitor`: the gates on a schedule, an uptime history, alerts on state changes.

It parses, has the core wire the monitor (`releasegate.ops.monitor.monitor_setup`), prints one
line per check and a summary, and exits 0 (up, objective met), 1 (down, or below the
objective), 2 (nothing measured) or 3 (usage or configuration error).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from releasegate.cli.common import fail, reports_dir_option, suites_option
from releasegate.config import MONITOR_MAX_S, Environment, load_environment
from releasegate.errors import MonitorError
from releasegate.evidence.decision_file import NotificationRecord
from releasegate.ops.monitor.monitor_setup import build_monitor, monitor_settings, new_monitor
from releasegate.ops.monitor.uptime_history import (
    UPTIME_FILE,
    AlertRecord,
    CheckRecord,
    UptimeHistory,
)
from releasegate.ops.monitor.uptime_session import Schedule
from releasegate.ops.monitor.uptime_tracker import (
    MonitorExit,
    format_ratio,
    format_span,
    monitor_exit,
    summarise,
)
from releasegate.ops.pytest_argv import stage_markers
from releasegate.units import parse_duration


def _duration(option: str, text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")
    if seconds <= 0:
        fail(f"{option}: must be more than 0 (got {text!r})")
    if seconds > MONITOR_MAX_S:
        fail(f"{option}: at most 31 days: a monitor is bounded (got {text!r})")
    return seconds


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _stages(names: Sequence[str]) -> list[str]:
    try:
        return stage_markers(names)
    except ValueError as exc:
        fail(f"--stage: {exc}")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Ctrl-C and SIGTERM end the monitor cleanly: the running check is stopped, the history
    written. The event is set; nothing is raised in the middle of writing a file."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _sent_text(sent: NotificationRecord | None) -> str:
    if sent is None:
        return "not sent: no [notify] webhook_url"
    if sent.delivered:
        return f"notification to {sent.url}: delivered ({sent.status})"
    return f"notification to {sent.url}: FAILED: {sent.error} after {sent.attempts} attempt(s)"


@click.command("monitor")
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option("--every", metavar="DURATION", help="start a check every DURATION ([monitor] every)")
@click.option(
    "--for", "for_", metavar="DURATION", help="stop starting checks after this ([monitor] for)"
)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    metavar="STAGE",
    help="the gates each check runs (repeatable; [monitor] stages, default smoke)",
)
@click.option(
    "--alert-after",
    type=click.IntRange(min=1),
    default=None,
    help="consecutive failed checks before the down alert ([monitor] alert_after)",
)
@click.option("--max-checks", type=click.IntRange(min=1), default=None, help="stop after N checks")
@reports_dir_option("the history goes to REPORTS_DIR/monitors/<id>/")
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@suites_option
def monitor_command(
    env_name: str,
    every: str | None,
    for_: str | None,
    stages: Sequence[str],
    alert_after: int | None,
    max_checks: int | None,
    reports_dir: Path,
    base_url: str | None,
    suites: Path,
) -> None:
    """Run the gates on a schedule (a real `releasegate run` per check), keep every check in
    REPORTS_DIR/monitors/<id>/uptime.json, and alert through the [notify] webhook when the
    target goes down (after --alert-after failed checks in a row) and when it recovers.

    Exit 0: ended up, availability met the objective; 1: ended down or below the objective;
    2: no check measured the target; 3: usage or configuration error.

    \b
    releasegate monitor --env staging --every 5m --for 24h
    """
    env = load_environment(env_name)
    config = env.model.monitor
    settings = monitor_settings(
        env,
        stages=_stages(stages),
        every_s=_duration("--every", every, config.every),
        for_s=_duration("--for", for_, config.for_),
        max_checks=max_checks,
        alert_after=alert_after,
    )
    try:
        target = env.base_url(base_url)
    except ValueError as exc:
        fail(f"--base-url: {exc}")
    if not suites.is_dir():
        fail(f"{suites}: no such folder of gate suites (run from your repository, or --suites)")
    redact = env.redactor.redact
    started = new_monitor(env, settings, target, reports_dir)
    monitor_id, folder, carried = started.history.id, started.folder, started.carried
    if carried is not None:
        state = "down" if carried.confirmed else "failing"
        failed = _count(carried.failed_checks, "failed check")
        click.echo(
            f"going on with the open incident of monitor {carried.carried_from}: {state} since"
            f" {carried.started_at:%Y-%m-%d %H:%M:%S} ({failed})"
        )
    for warning in env.warnings:
        click.echo(f"warning: {warning}", err=True)
    if target is None:
        click.echo(
            "warning: no target URL: every check starts its own reference service; pass"
            " --base-url to monitor one that keeps running",
            err=True,
        )
    bound = f" (at most {_count(max_checks, 'check')})" if max_checks else ""
    click.echo(
        f"monitor {monitor_id}: env={env.name} target={redact(target or '-')}"
        f" stages={','.join(settings.stages)} every {format_span(settings.every_s)}"
        f" for {format_span(settings.for_s)}{bound}; alert after"
        f" {_count(settings.alert_after, 'failed check')}; objective"
        f" {format_ratio(settings.objective)} (times UTC)"
    )
    click.echo(f"history: {folder / UPTIME_FILE}")

    with _stop_on_signals() as stop:
        monitor = build_monitor(
            env,
            started,
            target=target,
            suites=suites,
            base_url=base_url,
            stopped=stop.is_set,
            on_check=lambda check: _say_check(env, check),
            on_alert=lambda alert: _say_alert(env, alert),
        )
        try:
            monitor.run(
                Schedule(settings.every_s, settings.for_s, settings.max_checks),
                wait=stop.wait,
                stopped=stop.is_set,
            )
        except MonitorError as exc:
            fail(redact(str(exc)))
        except OSError as exc:  # the reports folder cannot be written (full, read-only, a file)
            fail(
                redact(
                    f"{exc.filename or folder}: cannot write the monitor's files: {exc.strerror}"
                )
            )
        except Exception as exc:  # recorded in the history (status failed); one line here
            fail(redact(f"the monitor stopped on an error: {type(exc).__name__}: {exc}"))
    _summary(monitor.history, folder)
    sys.exit(int(monitor_exit(monitor.history)))


def _say_check(env: Environment, check: CheckRecord) -> None:
    click.echo(
        env.redactor.redact(
            f"{check.started_at:%H:%M:%S} check {check.number}: {check.outcome.upper()}"
            f" in {format_span(check.duration_s)}: {check.reason}"
        )
    )


def _say_alert(env: Environment, alert: AlertRecord) -> None:
    what = (
        f"DOWN since {alert.since:%H:%M:%S}"
        f" ({_count(alert.consecutive_failures, 'failed check')} in a row)"
        if alert.event == "down"
        else f"RECOVERED after {format_span(alert.duration_s)} down"
    )
    click.echo(env.redactor.redact(f"  alert: {what}; {_sent_text(alert.notification)}"))


def _summary(history: UptimeHistory, folder: Path) -> None:
    s = summarise(history)
    ended = {
        "for": "its time was up",
        "max_checks": "it made --max-checks checks",
        "interrupted": "it was interrupted",
        "error": "of an error",
    }.get(history.stopped_by or "", "?")
    click.echo("")
    click.echo(
        f"monitor {history.id} ended because {ended}: {_count(s.checks, 'check')}: {s.up} up,"
        f" {s.down} down, {s.unknown} unknown (measurement problems, not counted)"
    )
    measured = s.up + s.down
    verdict = "met" if s.objective_met else "MISSED"
    click.echo(
        f"availability {format_ratio(s.availability)} of {_count(measured, 'measured check')}"
        " against"
        f" the objective {format_ratio(history.settings.objective)}"
        + (f": {verdict}" if s.availability is not None else "")
    )
    click.echo(
        f"incidents: {_count(s.outages, 'outage')}, {_count(s.blips, 'blip')};"
        f" alerts raised: {s.alerts}"
    )
    for incident in history.incidents:
        kind = "outage" if incident.confirmed else "blip"
        end = (
            f"{incident.ended_at:%H:%M:%S} ({format_span(incident.duration_s or 0.0)})"
            if incident.ended_at
            else "not recovered"
        )
        click.echo(
            f"  {kind} {incident.started_at:%H:%M:%S} -> {end},"
            f" {_count(incident.failed_checks, 'failed check')}: {incident.reason}"
        )
    click.echo(f"history: {folder / UPTIME_FILE}")
    code = monitor_exit(history)
    state = {
        MonitorExit.UP: "UP",
        MonitorExit.DOWN: {
            "down": "DOWN",
            "failing": "FAILING (the last check that measured failed)",
        }.get(s.state, "BELOW OBJECTIVE"),
        MonitorExit.NO_EVIDENCE: "NO EVIDENCE (no check measured the target)",
    }[code]
    click.echo(f"monitor: {state}")
