"""The report site's rollout pages: one per rollout under reports/rollouts, as a timeline of its
stages (traffic share, soak probes, gate verdicts, the rollback) for people who were not there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment as Templates

from releasegate.errors import TimelineUnreadable
from releasegate.ops.rollout.engine import STATUS_VERDICT, RolloutState, find_rollouts
from releasegate.ops.watch import read_timeline
from releasegate.report import charts


@dataclass(frozen=True)
class RolloutLink:
    title: str
    href: str
    status: str
    verdict: str


def _seconds(start: str, at: str) -> float:
    return (datetime.fromisoformat(at) - datetime.fromisoformat(start)).total_seconds()


def _probe_chart(folder: Path, state: RolloutState) -> str | None:
    """Every soak's probes on one clock (seconds since the rollout started), each traffic
    change a vertical line."""
    ok: list[tuple[float, float]] = []
    failed: list[tuple[float, float]] = []
    changes: list[tuple[str, float]] = []
    for stage in state.stages:
        if stage.traffic is not None:
            changes.append((stage.name, _seconds(state.started_at, stage.traffic.started_at)))
        for soak in stage.soaks:
            try:
                timeline = read_timeline(folder / soak.file)
            except TimelineUnreadable:
                continue
            offset = _seconds(state.started_at, timeline.started_at)
            for probe in timeline.probes:
                point = (offset + probe.t, probe.latency_ms)
                (ok if probe.ok else failed).append(point)
    if not ok and not failed:
        return None
    return charts.rollout_probes(ok, failed, changes)


def _gate_links(state: RolloutState, site: Path) -> dict[str, list[tuple[str, str | None]]]:
    """Per stage, its gate runs: (label, link to the run page when the site has it)."""
    links: dict[str, list[tuple[str, str | None]]] = {}
    for stage in state.stages:
        rows = []
        for gate in stage.gates:
            page = site / "runs" / gate.run_id / "index.html"
            href = f"../../runs/{gate.run_id}/index.html" if page.exists() else None
            rows.append((f"{'+'.join(gate.gates)}: {gate.verdict.name}", href))
        links[stage.name] = rows
    return links


def build_rollout_pages(reports_dir: Path, site: Path, templates: Templates) -> list[RolloutLink]:
    """Write site/rollouts/<id>/index.html for every rollout; return links for the index,
    newest first. Run pages must be built first (the stage rows link to them)."""
    links: list[RolloutLink] = []
    for folder, state in find_rollouts(reports_dir):
        page_dir = site / "rollouts" / state.id
        page_dir.mkdir(parents=True, exist_ok=True)
        verdict = STATUS_VERDICT[state.status].name
        chart = _probe_chart(folder, state)
        page = templates.get_template("rollout.html.j2").render(
            root="../../",
            state=state,
            verdict=verdict,
            gate_links=_gate_links(state, site),
            charts=[chart] if chart else [],
            events=state.events,
        )
        (page_dir / "index.html").write_text(page, encoding="utf-8")
        title = f"{state.plan} on {state.environment}"
        if state.release_version:
            title += f" (release {state.release_version})"
        links.append(RolloutLink(title, f"rollouts/{state.id}/index.html", state.status, verdict))
    return links
