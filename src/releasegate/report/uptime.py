"""The report site's uptime pages, from every `releasegate monitor` history under reports/.

    site/uptime/index.html               every monitor, newest first, against its objective
    site/uptime/<id>/index.html          availability, charts, incidents, alerts, checks
    site/uptime/<id>/checks/<run-id>/    report.html, decision.json and the output of every
                                         check that was not up (what a person reads next)

A monitor's check runs live under its own folder (reports/monitors/<id>/checks/), so they are
not listed among the runs on the index: they are this page's evidence, not releases.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment as Templates

from releasegate.errors import UptimeUnreadable
from releasegate.ops.monitor.uptime_history import (
    CHECKS_DIR,
    LOGS_DIR,
    MONITORS_DIR,
    UPTIME_FILE,
    CheckRecord,
    UptimeHistory,
    UptimeSummary,
    read_uptime,
)
from releasegate.ops.monitor.uptime_tracker import (
    format_ratio,
    format_span,
    monitor_exit,
    summarise,
)
from releasegate.report import charts

UPTIME_DIR = "uptime"
_EVIDENCE = ("report.html", "decision.json")
_OUTCOME_CLASSES = {"up": "passed", "down": "failed", "unknown": "error"}
_BANNERS = {"UP": "GO", "DOWN": "ROLLBACK", "NO_EVIDENCE": "HOLD"}
_STATE_LABELS = {
    "up": "UP",
    "failing": "FAILING",
    "down": "DOWN",
    "unknown": "NO EVIDENCE",
}
_STATE_HEADLINES = {
    "up": "The last check that measured the target found it up.",
    "failing": "The last check that measured the target failed; not yet an outage (fewer"
    " failed checks in a row than alert_after).",
    "down": "The target is down: an outage that had not recovered when the monitor stopped.",
    "unknown": "No check measured the target: every one was a measurement problem.",
}


@dataclass(frozen=True)
class MonitorRow:
    """One monitor on the list page."""

    href: str
    history: UptimeHistory
    summary: UptimeSummary


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _minutes(history: UptimeHistory, moment: datetime) -> float:
    return (moment - history.started_at).total_seconds() / 60.0


def _charts(history: UptimeHistory) -> list[str]:
    if not history.checks:
        return []
    by_outcome: dict[str, list[tuple[float, float]]] = {"up": [], "down": [], "unknown": []}
    availability: list[tuple[float, float]] = []
    up = measured = 0
    for check in history.checks:
        t = _minutes(history, check.started_at)
        by_outcome[check.outcome].append((t, check.duration_s))
        if check.outcome != "unknown":
            measured += 1
            up += check.outcome == "up"
            availability.append((t, 100.0 * up / measured))
    found = [charts.uptime_checks(by_outcome["up"], by_outcome["down"], by_outcome["unknown"])]
    if availability:
        found.append(charts.availability_over_time(availability, 100 * history.settings.objective))
    return found


def _copy_evidence(check: CheckRecord, folder: Path, page_dir: Path) -> list[tuple[str, str]]:
    """Copy what a not-up check left (its run's report and decision, its output) beside the
    page; return (label, href) for each copied file."""
    links: list[tuple[str, str]] = []
    target = page_dir / CHECKS_DIR / check.run_id
    sources = [(folder / CHECKS_DIR / check.run_id / name, name) for name in _EVIDENCE]
    sources.append((folder / LOGS_DIR / f"{check.run_id}.log", "output.log"))
    for source, name in sources:
        if not source.is_file():
            continue
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
        links.append((name, f"{CHECKS_DIR}/{check.run_id}/{name}"))
    return links


def _check_rows(history: UptimeHistory, folder: Path, page_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for check in history.checks:
        evidence = _copy_evidence(check, folder, page_dir) if check.outcome != "up" else []
        rows.append(
            {
                "number": check.number,
                "at": _when(check.started_at),
                "outcome": check.outcome,
                "css": _OUTCOME_CLASSES[check.outcome],
                "verdict": check.verdict or "-",
                "duration": format_span(check.duration_s),
                "reason": check.reason,
                "evidence": evidence,
            }
        )
    return rows


def _incident_rows(history: UptimeHistory) -> list[dict[str, Any]]:
    alerted = {a.since for a in history.alerts if a.event == "down"}
    return [
        {
            "kind": "outage" if i.confirmed else "blip",
            "start": _when(i.started_at),
            "end": _when(i.ended_at) if i.ended_at else "not recovered",
            "duration": format_span(i.duration_s) if i.duration_s is not None else "-",
            "failed_checks": i.failed_checks,
            "alerted": i.started_at in alerted,
            "reason": i.reason,
        }
        for i in history.incidents
    ]


def _alert_rows(history: UptimeHistory) -> list[dict[str, Any]]:
    rows = []
    for alert in history.alerts:
        sent = alert.notification
        if sent is None:
            delivery = "not sent: no webhook configured"
        elif sent.delivered:
            delivery = f"delivered to {sent.url} ({sent.status})"
        else:
            delivery = f"FAILED to {sent.url}: {sent.error} after {sent.attempts} attempt(s)"
        rows.append(
            {
                "event": alert.event,
                "at": _when(alert.at),
                "since": _when(alert.since),
                "duration": format_span(alert.duration_s),
                "failures": alert.consecutive_failures,
                "delivery": delivery,
                "reason": alert.reason,
            }
        )
    return rows


def _period(history: UptimeHistory) -> str:
    end = history.finished_at or (history.checks[-1].started_at if history.checks else None)
    if end is None:
        return _when(history.started_at)
    span = format_span((end - history.started_at).total_seconds())
    running = " (still running)" if history.status == "running" else ""
    return f"{_when(history.started_at)} to {_when(end)}, {span}{running}"


def _figures(history: UptimeHistory, summary: UptimeSummary) -> dict[str, Any]:
    label, headline = _STATE_LABELS[summary.state], _STATE_HEADLINES[summary.state]
    if summary.objective_met is False:
        label += " · objective missed"
        headline += " Availability is below the objective."
    return {
        "state": summary.state,
        "state_label": label,
        # the colour says what the monitor's exit code says: up and at the objective is green
        "banner": _BANNERS[monitor_exit(history).name],
        "headline": headline,
        "availability": format_ratio(summary.availability),
        "objective": format_ratio(history.settings.objective),
        "met": summary.objective_met,
        "period": _period(history),
        "every": format_span(history.settings.every_s),
    }


def build_uptime_pages(
    reports_dir: Path, site_out: Path, templates: Templates
) -> list[tuple[str, str]]:
    """Write the uptime pages for every monitor under `reports_dir`; return the site's links
    to them as (title, href relative to the site's root): none when there is no monitor."""
    paths = sorted((reports_dir / MONITORS_DIR).glob(f"*/{UPTIME_FILE}"))
    if not paths:
        return []
    rows: list[MonitorRow] = []
    unreadable: list[str] = []
    out = site_out / UPTIME_DIR
    for path in paths:
        try:
            history = read_uptime(path)
        except UptimeUnreadable as exc:
            unreadable.append(str(exc))
            continue
        folder = path.parent
        # the folder's name, not the file's id: it is known to be a safe path segment
        page_dir = out / folder.name
        page_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, page_dir / UPTIME_FILE)
        summary = summarise(history)
        page = templates.get_template("uptime.html.j2").render(
            root="../../",
            history=history,
            summary=summary,
            figures=_figures(history, summary),
            checks=_check_rows(history, folder, page_dir),
            problems=[c for c in history.checks if c.outcome == "unknown"],
            incidents=_incident_rows(history),
            alerts=_alert_rows(history),
            charts=_charts(history),
        )
        (page_dir / "index.html").write_text(page, encoding="utf-8")
        rows.append(MonitorRow(f"{folder.name}/index.html", history, summary))
    rows.sort(key=lambda r: (r.history.started_at, r.history.id), reverse=True)
    index = templates.get_template("uptime_index.html.j2").render(
        root="../",
        monitors=[(row, _figures(row.history, row.summary)) for row in rows],
        unreadable=unreadable,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(index, encoding="utf-8")
    return [("Uptime", f"{UPTIME_DIR}/index.html")]
