"""`releasegate report build`: a static, self-contained site from every run under reports/.

    site/index.html                  runs newest first, environment filter, trend charts
    site/runs/<run-id>/index.html    verdict banner, reasons, gates, checks, charts, links
    site/runs/<run-id>/...           copies of report.html, results.json, decision.json,
                                     junit.xml, and Allure's HTML report when Node is present
    site/uptime/...                  `releasegate monitor` histories (report/uptime.py)
    site/rollouts/<id>/index.html    `releasegate rollout` timelines (report/rollouts.py)

Nothing is fetched from a network: charts are inline SVG, styles inline, no CDN.

Every file copied and every page rendered is masked with the secrets of the run's environment
(report/secrets.py); a run whose environment cannot be loaded gets a page without its free text
(messages, reasons, hook output) and none of its raw files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment as Templates
from jinja2 import PackageLoader, select_autoescape

from releasegate.config import environments_dir
from releasegate.errors import TimelineUnreadable
from releasegate.evidence.file_masking import redact_file
from releasegate.evidence.results import CAUSE_UNREACHABLE, CheckResult, now
from releasegate.evidence.runs import scrub_tree
from releasegate.load.stats import read_history
from releasegate.ops.watch import TIMELINE_FILE, read_timeline
from releasegate.redact import Redactor
from releasegate.report import charts
from releasegate.report.allure_render import find_allure, render_allure
from releasegate.report.masking import RunSecrets, SecretsByEnvironment
from releasegate.report.model import (
    MetricSeries,
    RunView,
    format_measurement,
    in_series,
    load_runs,
    metric_series,
    short_check,
)
from releasegate.report.rollouts import build_rollout_pages
from releasegate.report.uptime import build_uptime_pages

SITE_DIR = "site"
TREND_RUNS = 30  # runs shown in the trend charts
_COPIED = ("report.html", "results.json", "decision.json", "junit.xml", "timeline.json")
_HEADLINES = {
    "GO": "Every gate asked for ran, and every blocking check passed.",
    "ROLLBACK": "The release was measured and found wrong: a blocking check failed.",
    "HOLD": "The evidence is incomplete, so the release was not judged. Missing evidence is"
    " never a GO.",
}
_DOWN = (
    "The target could not be reached, and the runner's network works (it answered before, or"
    " the canary answers): the release took it down."
)
_FAIL_SAFE = (
    "The evidence is incomplete, and the policy turns missing evidence into a rollback"
    " (on_inconclusive = rollback)."
)
_OUTCOME_LABELS = {"error": "could not measure"}


def _headline(run: RunView) -> str:
    """What the verdict means for this run: a ROLLBACK need not mean a check failed."""
    if run.verdict == "ROLLBACK":
        rules = {r.rule for r in run.decision.reasons}
        seen = run.results.run.reachability if run.results else None
        down = "unreachable" in rules and seen is not None and seen.evidence is not None
        if "check-failed" not in rules:
            return _DOWN if down else _FAIL_SAFE
    return _HEADLINES.get(run.verdict, "")


@dataclass
class BuildResult:
    out: Path
    runs: int
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def _templates() -> Templates:
    return Templates(
        loader=PackageLoader("releasegate.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        keep_trailing_newline=True,
    )


def _actions(run: RunView) -> list[str]:
    if run.record is None:
        return []
    lines: list[str] = []
    for hook in (run.record.actions.rollback, run.record.actions.on_hold):
        if hook is None:
            continue
        if hook.executed:
            state = "timed out" if hook.timed_out else f"exited {hook.exit_code}"
            lines.append(f"{hook.kind} hook `{hook.command}` ran and {state}.")
        else:
            lines.append(f"{hook.kind} hook `{hook.command}` was not run: {hook.reason}")
    for sent in run.record.actions.notifications:
        state = "delivered" if sent.delivered else f"failed ({sent.error})"
        lines.append(f"Notification to {sent.url}: {state}.")
    return lines


_ORDER = {"failed": 0, "error": 1, "skipped": 3}


def _hook_outputs(run: RunView) -> list[tuple[str, str]]:
    """(hook kind, its masked output) for every hook that ran."""
    if run.record is None:
        return []
    hooks = (run.record.actions.rollback, run.record.actions.on_hold)
    return [(h.kind, h.output) for h in hooks if h is not None and h.executed and h.output]


def _copy_artefacts(run: RunView, page_dir: Path, redactor: Redactor) -> list[tuple[str, str]]:
    """Copy each check's artefacts (screenshots, traces, load reports) beside the page, once
    per file, masked: several checks judging one page visit share its screenshot and trace."""
    found: dict[str, list[str]] = {}
    for check in run.checks:
        for name in check.artefacts:
            source = run.path / name
            if not source.is_file():
                continue
            if name not in found:
                redact_file(source, page_dir / "artefacts" / name, redactor)
                found[name] = []
            found[name].append(short_check(check.id))
    return [
        (f"{', '.join(checks)}: {Path(name).name}", f"artefacts/{name}")
        for name, checks in found.items()
    ]


# x axis labels at each measurement's number, up to this many (more would overlap)
_NUMBERED_LABELS = 20


def _series_view(series: MetricSeries) -> dict[str, Any]:
    """A metric check's chart (None when no measurement is a number), the condition it was
    held to, and the measurements that are not numbers, listed under the chart."""
    points = series.plotted()
    numbers = sorted({x for x, _, _ in points})
    threshold = series.threshold
    chart = (
        charts.metric_series(
            f"{series.name} ({series.unit})" if series.unit else series.name,
            series.x_title,
            points,
            (threshold.value, threshold.text) if threshold else None,
            x_labels=None if series.by_time or len(numbers) > _NUMBERED_LABELS else numbers,
        )
        if points
        else None
    )
    return {
        "chart": chart,
        "condition": series.condition,
        "line": threshold is not None,
        "unplotted": [
            {
                "number": p.number,
                "outcome": p.outcome,
                "mark": charts.outcome_mark(p.outcome),
                "value": "no data" if p.value is None else str(p.value),
                "note": p.note,
            }
            for p in series.unplotted
        ],
    }


def _measured(check: CheckResult) -> tuple[list[str], dict[str, Any] | None]:
    """What a check measured, as text, and its metric series when it has one: the series is
    summed up in one line, its measurements are on the chart below the check."""
    series = metric_series(check)
    if series is None:
        return [format_measurement(m) for m in check.measurements], None
    apart = [format_measurement(m) for m in check.measurements if not in_series(m)]
    view = _series_view(series)
    below = "chart below" if view["chart"] else "listed below"
    return [*apart, f"{series.summary()} ({below})"], view


def _check_rows(run: RunView, *, free_text: bool = True) -> list[dict[str, Any]]:
    """Checks that did not pass first, so the page opens on what matters (without what they
    measured and said when the run's secrets are unknown)."""
    checks = sorted(run.checks, key=lambda c: (_ORDER.get(c.outcome, 2), c.id))
    rows = []
    for c in checks:
        measured, series = _measured(c) if free_text else ([], None)
        rows.append(
            {
                "name": short_check(c.id),
                "stage": c.stage or "-",
                "outcome": c.outcome,
                "outcome_label": (
                    "unreachable"
                    if c.cause == CAUSE_UNREACHABLE
                    else _OUTCOME_LABELS.get(c.outcome, c.outcome)
                )
                + (" (flaky)" if c.flaky else ""),
                "measured": measured,
                "series": series,
                "message": c.message if free_text else "",
            }
        )
    return rows


def _stage_rows(run: RunView) -> list[dict[str, Any]]:
    if run.record is not None:
        return [s.model_dump() for s in run.record.stages]
    return [
        {"stage": s.stage, "verdict": s.verdict.name, "blocking": s.blocking, "counts": s.counts}
        for s in run.decision.stages
    ]


def _counts_text(run: RunView) -> str:
    counts = {
        o: sum(1 for c in run.checks if c.outcome == o)
        for o in ("passed", "failed", "error", "skipped")
    }
    return ", ".join(f"{n} {o}" for o, n in counts.items() if n) or "none"


def _slo_charts(run: RunView) -> list[str]:
    """Latency percentiles with their intervals against the objectives, and the baseline."""
    found = []
    percentiles = run.slo_percentiles()
    if percentiles:
        found.append(charts.percentiles_with_intervals(percentiles))
    ratios = run.baseline_ratios()
    if ratios:
        found.append(charts.against_baseline(ratios))
    return found


def _load_charts(run: RunView) -> list[str]:
    """RPS, users and latency second by second, when the run has a load stage's history."""
    points = read_history(run.path / "load" / "locust_stats_history.csv")
    if len(points) < 2:
        return []
    start = points[0].timestamp
    return [
        charts.load_over_time(
            [p.timestamp - start for p in points],
            [p.rps for p in points],
            [p.p50_ms for p in points],
            [p.p95_ms for p in points],
            [p.users for p in points],
        )
    ]


def _watch_charts(run: RunView) -> list[str]:
    """The deploy's probes, when the run judged a `releasegate watch` timeline."""
    try:
        timeline = read_timeline(run.path / TIMELINE_FILE)
    except TimelineUnreadable:
        return []
    ok = [(p.t, p.latency_ms) for p in timeline.probes if p.ok]
    failed = [(p.t, p.latency_ms) for p in timeline.probes if not p.ok]
    started, ended = timeline.command_started_t, timeline.command_ended_t
    command = (started, ended) if started is not None and ended is not None else None
    return [charts.deploy_timeline(ok, failed, command)] if ok or failed else []


def _clear(page_dir: Path, *, keep_allure: bool) -> None:
    """Remove what an earlier build published for a run (masked or not, by older versions),
    except Allure's rendering, which is slow to redo: that is masked again in place."""
    page_dir.mkdir(parents=True, exist_ok=True)
    for path in page_dir.iterdir():
        if keep_allure and path.name == "allure":
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _withheld_page(run: RunView, secrets: RunSecrets, templates: Templates) -> str:
    """The verdict, the gates and the checks' outcomes, and why nothing else is shown."""
    return templates.get_template("run.html.j2").render(
        root="../../",
        run=run,
        target="-",
        withheld=f"The reports, artefacts and messages of this run are not published:"
        f" {secrets.problem}, so its secrets are unknown and could not be masked.",
        headline=_HEADLINES.get(run.verdict, ""),
        # without evidence, the reasons are ours (which file is unreadable, and where), not
        # the run's text
        reasons=run.reasons()[:8] if run.results is None and run.record is None else [],
        warnings=[],
        stages=_stage_rows(run),
        checks=_check_rows(run, free_text=False),
        links=[],
        actions=[],
        hook_outputs=[],
        artefacts=[],
        charts=[],
    )


def _run_page(
    run: RunView,
    page_dir: Path,
    redactor: Redactor,
    templates: Templates,
    allure_cmd: Path | None,
    notes: list[str],
) -> str:
    """Copy the run's reports and artefacts beside its page, masked; return the page."""
    links: list[tuple[str, str]] = []
    for name in _COPIED:
        if (run.path / name).exists():
            redact_file(run.path / name, page_dir / name, redactor)
    if (page_dir / "report.html").exists():
        links.append(("pytest-html report", "report.html"))
    allure_results = run.path / "allure-results"
    if allure_cmd is not None and allure_results.is_dir():
        note = render_allure(allure_cmd, allure_results, page_dir / "allure", redactor)
        if note:
            notes.append(note)
        if (page_dir / "allure" / "index.html").exists():
            links.append(("Allure report", "allure/index.html"))
    links += [
        (n, n)
        for n in ("results.json", "decision.json", "junit.xml", "timeline.json")
        if (page_dir / n).exists()
    ]
    artefacts = _copy_artefacts(run, page_dir, redactor)
    if (page_dir / "artefacts" / "load" / "locust-report.html").is_file():
        links.append(("Locust report", "artefacts/load/locust-report.html"))
    latency = run.latency_ms()
    page = templates.get_template("run.html.j2").render(
        root="../../",
        run=run,
        target=run.results.run.target_url if run.results else "-",
        withheld=None,
        headline=_headline(run),
        reasons=run.reasons()[:8],
        warnings=[w.line() for w in run.decision.warnings],
        stages=_stage_rows(run),
        checks=_check_rows(run),
        links=links,
        actions=_actions(run),
        hook_outputs=_hook_outputs(run),
        artefacts=artefacts,
        charts=[
            *([charts.latency_by_check(latency)] if latency else []),
            *_load_charts(run),
            *_slo_charts(run),
            *_watch_charts(run),
        ],
    )
    return redactor.redact(page)


def build_site(
    reports_dir: Path,
    out: Path | None = None,
    *,
    allure: bool = True,
    env_dir: Path | None = None,
    published: str | None = None,
) -> BuildResult:
    """Write the site for every run under `reports_dir` into `out` (default reports/site),
    masked with the secrets of each run's environment (looked up in `env_dir`, default the
    environments folder, when the run's own environment file is gone). `published` is the text
    of an already published site's `site.json`: its runs join the index and the history."""
    out = (out or reports_dir / SITE_DIR).resolve()
    runs = load_runs(reports_dir, exclude=out)
    templates = _templates()
    result = BuildResult(out, len(runs))
    secrets = SecretsByEnvironment(env_dir or environments_dir())
    allure_cmd = find_allure(Path.cwd()) if allure else None
    if allure and allure_cmd is None:
        result.notes.append(
            "Allure HTML reports skipped: no Allure command (run `npm ci` where package.json is,"
            " with Node.js installed, or set RELEASEGATE_ALLURE)"
        )
    for run in runs:
        page_dir = out / "runs" / run.run_id
        info = run.results.run if run.results else None
        run_secrets = secrets.of(
            info.environment if info else None, info.environment_file if info else None
        )
        _clear(page_dir, keep_allure=run_secrets.problem is None)
        if run_secrets.problem is not None:
            result.notes.append(f"run {run.run_id}: raw reports withheld: {run_secrets.problem}")
            page = _withheld_page(run, run_secrets, templates)
        else:
            page = _run_page(
                run, page_dir, run_secrets.redactor, templates, allure_cmd, result.notes
            )
        (page_dir / "index.html").write_text(page, encoding="utf-8")
    trend = list(reversed(runs[:TREND_RUNS]))  # oldest first, left to right
    labels = [r.run_id[:15] for r in trend]
    trend_charts = []
    if trend:
        trend_charts = [
            charts.verdicts_over_runs(labels, [r.verdict for r in trend]),
            charts.outcomes_over_runs(
                labels,
                [
                    {
                        o: sum(1 for c in r.checks if c.outcome == o)
                        for o in ("passed", "failed", "error", "skipped")
                    }
                    for r in trend
                ],
            ),
            charts.median_latency_over_runs(labels, [r.median_latency_ms() for r in trend]),
        ]
    # (title, href) of the site's other parts, shown on the index
    sections: list[tuple[str, str]] = []
    sections += build_uptime_pages(reports_dir, out, templates)
    rollouts = build_rollout_pages(reports_dir, out, templates)  # after the run pages it links
    index = templates.get_template("index.html.j2").render(
        root="",
        runs=runs,
        sections=sections,
        rollouts=rollouts,
        environments=sorted({r.environment for r in runs}),
        counts={r.run_id: _counts_text(r) for r in runs},
        charts=trend_charts,
        built_at=now().strftime("%Y-%m-%d %H:%M UTC"),
    )
    out.mkdir(parents=True, exist_ok=True)
    everyone = secrets.all()
    (out / "index.html").write_text(everyone.redact(index), encoding="utf-8")
    for part in ("uptime", "rollouts"):  # masked at their source; and with these secrets too
        if (out / part).is_dir():
            scrub_tree(out / part, everyone)
    return result
