"""`releasegate monitor`: the gates on a schedule, an uptime history, alerts on state changes.

It parses, wires the core (`releasegate.ops.monitor.uptime_monitor`) to the terminal and
the webhook, prints one line per check and a summary, and exits 0 (up, objective met), 1 (down,
or below the objective), 2 (nothing measured) or 3 (usage or configuration error).
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

from releasegate.cli.common import fail as _fail
from releasegate.cli.common import reports_dir_option, suites_option
from releasegate.config import MONITOR_MAX_S, Environment, load_environment
from releasegate.errors import MonitorError
from releasegate.evidence.results import now
from releasegate.evidence.runs import new_run_id
from releasegate.ops.monitor.gate_check import (
    GateCheck,
    GateCommand,
    canary_answers,
    target_answers,
)
from releasegate.ops.monitor.uptime_history import (
    CHECKS_DIR,
    LOGS_DIR,
    MONITORS_DIR,
    UPTIME_FILE,
    AlertRecord,
    CheckRecord,
    MonitorSettings,
    UptimeHistory,
    carry_over,
)
from releasegate.ops.monitor.uptime_session import Monitor, Schedule
from releasegate.ops.monitor.uptime_tracker import (
    Alert,
    MonitorExit,
    alert_payload,
    format_ratio,
    format_span,
    monitor_exit,
    summarise,
)
from releasegate.ops.verdict_actions import NotificationRecord, notify
from releasegate.stages import STAGES
from releasegate.units import parse_duration


def _duration(option: str, text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        _fail(f"{option}: {exc}")
    if seconds <= 0:
        _fail(f"{option}: must be more than 0 (got {text!r})")
    if seconds > MONITOR_MAX_S:
        _fail(f"{option}: at most 31 days: a monitor is bounded (got {text!r})")
    return seconds


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _stages(names: Sequence[str], default: Sequence[str]) -> list[str]:
    if not names:
        return list(default)
    chosen: list[str] = []
    for name in names:
        stage = name.replace("-", "_")
        if stage not in STAGES:
            known = ", ".join(s.replace("_", "-") for s in STAGES)
            _fail(f"--stage: unknown stage {name!r}; stages: {known}")
        chosen.append(stage)
    return list(dict.fromkeys(chosen))


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


def _link(env: Environment, folder: Path, monitor_id: str) -> str:
    """Where a person reads the history: the published site's uptime page, else the file."""
    report_url = env.model.notify.report_url
    if report_url:
        return f"{report_url.rstrip('/')}/uptime/{monitor_id}/index.html"
    return (folder / UPTIME_FILE).resolve().as_uri()


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
    settings = MonitorSettings(
        stages=_stages(stages, config.stages),
        every_s=_duration("--every", every, config.every),
        for_s=_duration("--for", for_, config.for_),
        max_checks=max_checks,
        alert_after=alert_after or config.alert_after,
        objective=config.objective,
        check_timeout_s=config.check_timeout,
        canary_url=config.canary_url or env.model.target.canary_url,
    )
    try:
        target = env.base_url(base_url)
    except ValueError as exc:
        _fail(f"--base-url: {exc}")
    if not suites.is_dir():
        _fail(f"{suites}: no such folder of gate suites (run from your repository, or --suites)")
    redact = env.redactor.redact
    monitor_id = new_run_id(env.name)
    folder = reports_dir / MONITORS_DIR / monitor_id
    history = UptimeHistory(
        id=monitor_id,
        environment=env.name,
        target_url=redact(target) if target else None,
        started_at=now(),
        settings=settings,
    )
    carried = carry_over(reports_dir / MONITORS_DIR, history, history.started_at)
    if carried is not None:
        history.incidents = [carried]
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
        monitor = _monitor(env, history, folder, target, suites, base_url, stop)
        try:
            monitor.run(
                Schedule(settings.every_s, settings.for_s, settings.max_checks),
                wait=stop.wait,
                stopped=stop.is_set,
            )
        except MonitorError as exc:
            _fail(redact(str(exc)))
        except OSError as exc:  # the reports folder cannot be written (full, read-only, a file)
            _fail(
                redact(
                    f"{exc.filename or folder}: cannot write the monitor's files: {exc.strerror}"
                )
            )
        except Exception as exc:  # recorded in the history (status failed); one line here
            _fail(redact(f"the monitor stopped on an error: {type(exc).__name__}: {exc}"))
    _summary(monitor.history, folder)
    sys.exit(int(monitor_exit(monitor.history)))


def _monitor(
    env: Environment,
    history: UptimeHistory,
    folder: Path,
    target: str | None,
    suites: Path,
    base_url: str | None,
    stop: threading.Event,
) -> Monitor:
    """The core monitor, wired to the real gate runs, probes, webhook and terminal."""
    redactor = env.redactor
    settings = history.settings
    timeout = env.target.timeout
    link = _link(env, folder, history.id)

    def target_silent() -> str | None:
        assert target is not None
        return target_answers(
            target,
            env.target.health_path,
            headers=env.target.headers,
            timeout_s=timeout,
            retries=env.target.retries,
            verify_tls=env.target.verify_tls,
            redactor=redactor,
        )

    def canary_silent() -> str | None:
        assert settings.canary_url is not None
        return canary_answers(settings.canary_url, timeout_s=timeout)

    check = GateCheck(
        GateCommand(
            env_file=env.path,
            stages=settings.stages,
            checks_dir=folder / CHECKS_DIR,
            logs_dir=folder / LOGS_DIR,
            timeout_s=settings.check_timeout_s,
            suites=suites,
            base_url=base_url,
        ),
        redactor,
        target=target_silent if target else None,
        canary=canary_silent if settings.canary_url else None,
        stopped=stop.is_set,
    )

    def send(alert: Alert) -> NotificationRecord | None:
        payload = alert_payload(
            alert,
            environment=env.name,
            target_url=history.target_url,
            monitor_id=history.id,
            style=env.model.notify.format,
            link=link,
        )
        return notify(env.model.notify, payload, redactor)

    def on_check(check: CheckRecord) -> None:
        click.echo(
            redactor.redact(
                f"{check.started_at:%H:%M:%S} check {check.number}: {check.outcome.upper()}"
                f" in {format_span(check.duration_s)}: {check.reason}"
            )
        )

    def on_alert(alert: AlertRecord) -> None:
        what = (
            f"DOWN since {alert.since:%H:%M:%S}"
            f" ({_count(alert.consecutive_failures, 'failed check')} in a row)"
            if alert.event == "down"
            else f"RECOVERED after {format_span(alert.duration_s)} down"
        )
        click.echo(redactor.redact(f"  alert: {what}; {_sent_text(alert.notification)}"))

    return Monitor(
        history,
        folder / UPTIME_FILE,
        check,
        send,
        redactor,
        on_check=on_check,
        on_alert=on_alert,
    )


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
