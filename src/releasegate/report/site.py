"""`releasegate report build`: a static, self-contained site from every run under reports/.

    site/index.html                  runs newest first (with why), environment filter, and per
                                     environment the objectives charted over releases
    site/runs/<run-id>/index.html    verdict and reasons, what changed since the last GO, the
                                     checks gate by gate with their own artefacts, charts
    site/runs/<run-id>/...           copies of report.html, results.json, decision.json,
                                     junit.xml, artefacts, and Allure's HTML report when Node is
                                     present
    site/site.json                   every run's summary (report/summary.py): what `report
                                     publish` reads back so earlier runs stay in the index
    site/runs/<run-id>/summary.json  the run's own entry, should a concurrent publish drop it
    site/uptime/...                  `releasegate monitor` histories (report/uptime.py)
    site/rollouts/<id>/index.html    `releasegate rollout` timelines (report/rollouts.py)

Nothing is fetched from a network: charts are inline SVG, styles inline, no CDN.

Every file copied and every page rendered is masked with the secrets of the run's environment
(report/masking.py); a run whose environment cannot be loaded gets a page without its free text
(messages, reasons, hook output) and none of its raw files.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence
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
from releasegate.report.allure_render import find_allure, history_file, render_allure
from releasegate.report.changes import Changes, compare
from releasegate.report.indicators import KEYS
from releasegate.report.masking import RunSecrets, SecretsByEnvironment
from releasegate.report.model import (
    MetricSeries,
    RunView,
    format_measurement,
    in_series,
    load_runs,
    metric_series,
)
from releasegate.report.rollouts import build_rollout_pages
from releasegate.report.summary import (
    SITE_MANIFEST,
    RunSummary,
    check_title,
    merge,
    previous_go,
    read_manifest,
    summarise,
    write_manifest,
    write_summary,
)
from releasegate.report.uptime import build_uptime_pages
from releasegate.titles import title_from_check_id

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


def _hook_outputs(run: RunView) -> list[tuple[str, str]]:
    """(hook kind, its masked output) for every hook that ran."""
    if run.record is None:
        return []
    hooks = (run.record.actions.rollback, run.record.actions.on_hold)
    return [(h.kind, h.output) for h in hooks if h is not None and h.executed and h.output]


def _copy_artefacts(run: RunView, page_dir: Path, redactor: Redactor) -> set[str]:
    """Copy each check's artefacts (screenshots, traces, HAR, console logs, load reports)
    beside the page, once per file, masked; return the names copied."""
    copied: set[str] = set()
    for check in run.checks:
        for name in check.artefacts:
            source = run.path / name
            if name in copied or not source.is_file():
                continue
            redact_file(source, page_dir / "artefacts" / name, redactor)
            copied.add(name)
    return copied


def _artefact(name: str) -> dict[str, str]:
    """How one artefact is shown: a screenshot inline, a trace with the command that opens
    it, the rest as links named by what they are."""
    href = f"artefacts/{name}"
    file = Path(name).name
    if file.endswith(".png"):
        return {"kind": "screenshot", "href": href, "label": f"screenshot ({file})"}
    if file.endswith(".zip") and "trace" in file:
        return {
            "kind": "trace",
            "href": href,
            "label": "Playwright trace",
            "command": f"playwright show-trace {href}",
        }
    if file.endswith(".har"):
        return {"kind": "har", "href": href, "label": "network log (HAR)"}
    if file == "locust-report.html":
        return {"kind": "load", "href": href, "label": "Locust report"}
    if file.startswith("console") or file.endswith(".log"):
        return {"kind": "console", "href": href, "label": "browser console log"}
    return {"kind": "file", "href": href, "label": file}


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


_FIRST = {"failed": 0, "error": 1}
_MARKS = {"passed": "✔", "failed": "✖", "error": "⚠", "skipped": "○"}
_GATES = (
    ("pre_deploy", "Pre-deploy"),
    ("smoke", "Smoke"),
    ("post_deploy", "Post-deploy"),
    ("load", "Load"),
    ("slo", "Service level objectives"),
    ("unstaged", "Checks without a stage"),
)
_VERDICT_MARKS = {"GO": "✔", "ROLLBACK": "✖", "HOLD": "⏸"}


def _check_row(
    c: CheckResult, copied: set[str], *, free_text: bool, per_check_artefacts: bool
) -> dict[str, Any]:
    measured, series = _measured(c) if free_text else ([], None)
    label = "unreachable" if c.cause == CAUSE_UNREACHABLE else _OUTCOME_LABELS.get(c.outcome)
    return {
        "title": check_title(c) if free_text else title_from_check_id(c.id),
        "id": c.id,
        "outcome": c.outcome,
        "mark": _MARKS.get(c.outcome, "?"),
        "outcome_label": (label or c.outcome) + (" (flaky)" if c.flaky else ""),
        "advisory": not c.blocking,
        "measured": measured,
        "series": series,
        "message": c.message if free_text else "",
        "artefacts": [_artefact(n) for n in c.artefacts if n in copied]
        if per_check_artefacts and c.outcome in ("failed", "error")
        else [],
    }


def _once_inline(rows: list[dict[str, Any]]) -> None:
    """A screenshot of a visit that several failed checks judged is shown under the first of
    them; the others link it (the same picture five times would push the rest off the page)."""
    shown: set[str] = set()
    for row in rows:
        for artefact in row["artefacts"]:
            if artefact["kind"] != "screenshot":
                continue
            if artefact["href"] in shown:
                artefact["kind"] = "file"
                artefact["label"] = "screenshot (the same visit: shown above)"
            shown.add(artefact["href"])


def _gate_sections(
    run: RunView, copied: set[str], gate_charts: dict[str, list[str]], *, free_text: bool
) -> list[dict[str, Any]]:
    """The checks gate by gate in the checklist's order, within a gate the failures first
    (with their own artefacts), the passes and skips folded. A load run's reports belong to
    the whole gate, so they are listed once under it."""
    sections = []
    verdicts = {s["stage"]: s for s in _stage_rows(run)}
    for stage, name in _GATES:
        checks = sorted(
            (c for c in run.checks if (c.stage or "unstaged") == stage),
            key=lambda c: (_FIRST.get(c.outcome, 2), c.outcome, check_title(c)),
        )
        if not checks:
            continue
        per_check = stage != "load"
        rows = [
            _check_row(c, copied, free_text=free_text, per_check_artefacts=per_check)
            for c in checks
        ]
        gate_files = (
            sorted({n for c in checks for n in c.artefacts if n in copied}) if not per_check else []
        )
        _once_inline(rows)
        counts = Counter(c.outcome for c in checks)
        sections.append(
            {
                "stage": stage,
                "name": name,
                "verdict": verdicts.get(stage, {}).get("verdict"),
                "counts": ", ".join(
                    f"{counts[o]} {_OUTCOME_LABELS.get(o, o)}"
                    for o in ("failed", "error", "passed", "skipped")
                    if counts[o]
                ),
                "open": [r for r in rows if r["outcome"] in ("failed", "error")],
                "passed": [r for r in rows if r["outcome"] == "passed"],
                "skipped": [r for r in rows if r["outcome"] == "skipped"],
                "files": [_artefact(n) for n in gate_files if free_text],
                "charts": gate_charts.get(stage, []),
            }
        )
    return sections


def _stage_rows(run: RunView) -> list[dict[str, Any]]:
    if run.record is not None:
        return [s.model_dump() for s in run.record.stages]
    return [
        {"stage": s.stage, "verdict": s.verdict.name, "blocking": s.blocking, "counts": s.counts}
        for s in run.decision.stages
    ]


def _counts_text(counts: dict[str, int]) -> str:
    return (
        ", ".join(
            f"{counts[o]} {_OUTCOME_LABELS.get(o, o)}"
            for o in ("passed", "failed", "error", "skipped")
            if counts.get(o)
        )
        or "none"
    )


def _run_label(run: RunSummary) -> str:
    """How a run is named on a chart's x axis: release, time and verdict in words."""
    when = run.started_at.strftime("%m-%d %H:%M") if run.started_at else run.run_id[:13]
    return f"{run.release_version or '?'} · {when} · {run.verdict}"


def _objective_charts(runs: list[RunSummary], labels: list[str] | None = None) -> list[str]:
    """One chart per indicator over `runs` (oldest first), its objective as a line."""
    labels = labels or [_run_label(r) for r in runs]
    verdicts = [r.verdict for r in runs]
    found = []
    keys = {s.key for r in runs for s in r.slis}
    for key in (k for k in KEYS if k in keys):
        names = sorted({s.series for r in runs for s in r.slis if s.key == key})
        values: dict[str, Sequence[float | None]] = {}
        objective: tuple[float, str] | None = None
        unit = ""
        for name in names:
            row: list[float | None] = []
            for r in runs:
                sli = next((s for s in r.slis if s.key == key and s.series == name), None)
                row.append(sli.value if sli else None)
                if sli is not None:
                    unit = unit or sli.unit
                    if sli.objective is not None and sli.comparison:
                        objective = (
                            sli.objective,
                            f"{sli.comparison} {sli.objective:g} {sli.unit}".strip(),
                        )
            values[name or key] = row
        title = f"{key} ({unit})" if unit else key
        found.append(charts.objective_over_runs(title, labels, verdicts, values, objective))
    return found


def _changes(summary: RunSummary, everything: list[RunSummary]) -> Changes | None:
    previous = previous_go(summary, everything)
    return compare(summary, previous) if previous is not None else None


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


def _page_context(
    run: RunView, summary: RunSummary, everything: list[RunSummary]
) -> dict[str, Any]:
    """What both kinds of run page show: the verdict, why, and what changed since the last GO."""
    changes = _changes(summary, everything)
    previous = changes.previous if changes else None
    compared = [previous, summary] if previous else [summary]
    labels = (
        [f"last GO · {_run_label(previous)}", f"this run · {summary.verdict}"]
        if previous
        else [f"this run · {summary.verdict}"]
    )
    return {
        "root": "../../",
        "run": run,
        "summary": summary,
        "verdict_mark": _VERDICT_MARKS.get(run.verdict, "?"),
        "reasons": summary.reasons[:8],
        "changes": changes,
        "previous_href": f"../{previous.run_id}/index.html" if previous else None,
        "stages": _stage_rows(run),
        "objective_charts": _objective_charts(compared, labels),
    }


def _withheld_page(
    run: RunView,
    summary: RunSummary,
    everything: list[RunSummary],
    secrets: RunSecrets,
    templates: Templates,
) -> str:
    """The verdict, the gates and the checks' outcomes, and why nothing else is shown."""
    context = _page_context(run, summary, everything)
    return templates.get_template("run.html.j2").render(
        **context,
        target="-",
        withheld=f"The reports, artefacts and messages of this run are not published:"
        f" {secrets.problem}, so its secrets are unknown and could not be masked.",
        headline=_HEADLINES.get(run.verdict, ""),
        # without evidence, the reasons are ours (which file is unreadable, and where), not
        # the run's text
        plain_reasons=run.reasons()[:8] if run.results is None and run.record is None else [],
        warnings=[],
        gates=_gate_sections(run, set(), {}, free_text=False),
        links=[],
        actions=[],
        hook_outputs=[],
        charts=[],
    )


def _run_page(
    run: RunView,
    summary: RunSummary,
    everything: list[RunSummary],
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
        note = render_allure(
            allure_cmd,
            allure_results,
            page_dir / "allure",
            redactor,
            history=history_file(run.path.parent, run.environment),
            started_at=run.started_at,
        )
        if note:
            notes.append(note)
        if (page_dir / "allure" / "index.html").exists():
            links.append(("Allure report", "allure/index.html"))
    links += [
        (n, n)
        for n in ("results.json", "decision.json", "junit.xml", "timeline.json")
        if (page_dir / n).exists()
    ]
    copied = _copy_artefacts(run, page_dir, redactor)
    latency = run.latency_ms()
    gate_charts = {
        "load": _load_charts(run),
        "slo": _slo_charts(run),
        "post_deploy": _watch_charts(run),
    }
    page = templates.get_template("run.html.j2").render(
        **_page_context(run, summary, everything),
        target=run.results.run.target_url if run.results else "-",
        withheld=None,
        headline=_headline(run),
        plain_reasons=[] if summary.reasons else run.reasons()[:8],
        warnings=[w.readable() for w in run.decision.warnings],
        gates=_gate_sections(run, copied, gate_charts, free_text=True),
        links=links,
        actions=_actions(run),
        hook_outputs=_hook_outputs(run),
        charts=[charts.latency_by_check(latency)] if latency else [],
    )
    return redactor.redact(page)


def _index_charts(runs: list[RunSummary]) -> list[tuple[str, list[str]]]:
    """(environment, its objective charts over its last runs, oldest first)."""
    found = []
    for environment in sorted({r.environment for r in runs}):
        mine = [r for r in runs if r.environment == environment][:TREND_RUNS]
        made = _objective_charts(list(reversed(mine)))
        if made:
            found.append((environment, made))
    return found


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
    history = read_manifest(published, f"published {SITE_MANIFEST}") if published else []
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
    prepared = []
    for run in runs:
        info = run.results.run if run.results else None
        run_secrets = secrets.of(
            info.environment if info else None, info.environment_file if info else None
        )
        known = run_secrets.problem is None
        prepared.append((run, run_secrets, summarise(run, run_secrets.redactor if known else None)))
    everything = merge([summary for _, _, summary in prepared], history)
    # oldest first: each run's Allure report shows the runs of its environment before it
    for run, run_secrets, summary in reversed(prepared):
        page_dir = out / "runs" / run.run_id
        _clear(page_dir, keep_allure=run_secrets.problem is None)
        if run_secrets.problem is not None:
            result.notes.append(f"run {run.run_id}: raw reports withheld: {run_secrets.problem}")
            page = _withheld_page(run, summary, everything, run_secrets, templates)
        else:
            page = _run_page(
                run,
                summary,
                everything,
                page_dir,
                run_secrets.redactor,
                templates,
                allure_cmd,
                result.notes,
            )
        (page_dir / "index.html").write_text(page, encoding="utf-8")
        write_summary(page_dir, summary)
    # (title, href) of the site's other parts, shown on the index
    sections: list[tuple[str, str]] = []
    sections += build_uptime_pages(reports_dir, out, templates)
    rollouts = build_rollout_pages(reports_dir, out, templates)  # after the run pages it links
    index = templates.get_template("index.html.j2").render(
        root="",
        runs=everything,
        local={run.run_id for run in runs},
        sections=sections,
        rollouts=rollouts,
        environments=sorted({r.environment for r in everything}),
        counts={r.run_id: _counts_text(r.counts) for r in everything},
        marks=_VERDICT_MARKS,
        objectives=_index_charts(everything),
        built_at=now().strftime("%Y-%m-%d %H:%M UTC"),
    )
    out.mkdir(parents=True, exist_ok=True)
    everyone = secrets.all()
    (out / "index.html").write_text(everyone.redact(index), encoding="utf-8")
    write_manifest(out, everything)
    redact_file(out / SITE_MANIFEST, out / SITE_MANIFEST, everyone)
    for part in ("uptime", "rollouts"):  # masked at their source; and with these secrets too
        if (out / part).is_dir():
            scrub_tree(out / part, everyone)
    return result
