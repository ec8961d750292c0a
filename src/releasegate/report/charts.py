"""Charts as inline SVG (pygal), with no script or style fetched from anywhere."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pygal
from pygal.style import Style

# pygal appends a legacy import hook (for its map plugins, unused here) to sys.meta_path. It has
# no find_spec, so every later import in the process raises an ImportWarning: an error under
# `-W error`. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#8a93a3",
    colors=("#2f6fdf", "#c62828", "#f29d0b", "#2e7d32", "#6a1b9a"),
    font_family="system-ui, sans-serif",
)
_VERDICT_COLOURS = {"GO": "#2e7d32", "ROLLBACK": "#c62828", "HOLD": "#f29d0b"}
_SERIES_COLOURS = ("#2f6fdf", "#6a1b9a", "#00838f", "#6d4c41", "#ad1457", "#546e7a")


def _options(title: str, **extra: object) -> dict[str, object]:
    # js=[]: pygal would otherwise load its tooltip script from a CDN
    return {
        "title": title,
        "style": _STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 760,
        "height": 320,
        "explicit_size": False,
        **extra,
    }


def latency_by_check(rows: Sequence[tuple[str, float, float | None]]) -> str:
    """Measured latency per check, beside its threshold."""
    chart = pygal.HorizontalBar(
        **_options(
            "Latency by check (ms): measured and threshold", height=max(220, 40 * len(rows) + 80)
        )
    )
    chart.x_labels = [name for name, _, _ in rows]
    chart.add("measured", [round(value, 1) for _, value, _ in rows])
    chart.add("threshold", [threshold for _, _, threshold in rows])
    return str(chart.render(is_unicode=True))


def outcomes_over_runs(labels: Sequence[str], counts: Sequence[dict[str, int]]) -> str:
    """Checks passed, failed, errored and skipped in each run, oldest to newest."""
    chart = pygal.StackedBar(**_options("Checks per run", x_label_rotation=30))
    chart.x_labels = list(labels)
    for outcome, colour in (
        ("passed", "#2e7d32"),
        ("failed", "#c62828"),
        ("error", "#f29d0b"),
        ("skipped", "#8a93a3"),
    ):
        chart.add(outcome, [c.get(outcome, 0) for c in counts], stroke_style={"color": colour})
    chart.config.style = Style(
        **{**_STYLE.__dict__, "colors": ("#2e7d32", "#c62828", "#f29d0b", "#8a93a3")}
    )
    return str(chart.render(is_unicode=True))


def verdicts_over_runs(labels: Sequence[str], verdicts: Sequence[str]) -> str:
    """One bar per run, coloured by its verdict, oldest to newest."""
    chart = pygal.Bar(
        **_options("Verdict per run", x_label_rotation=30, show_y_labels=False, height=240),
    )
    chart.config.style = Style(
        **{**_STYLE.__dict__, "colors": tuple(_VERDICT_COLOURS[v] for v in _VERDICT_COLOURS)}
    )
    chart.x_labels = list(labels)
    for verdict in _VERDICT_COLOURS:
        chart.add(verdict, [1 if v == verdict else None for v in verdicts])
    return str(chart.render(is_unicode=True))


def median_latency_over_runs(labels: Sequence[str], values: Sequence[float | None]) -> str:
    """The median check latency of each run, oldest to newest."""
    chart = pygal.Line(
        **_options("Median check latency per run (ms)", x_label_rotation=30, include_x_axis=True)
    )
    chart.x_labels = list(labels)
    chart.add("median latency", [None if v is None else round(v, 1) for v in values])
    return str(chart.render(is_unicode=True))


def load_over_time(
    seconds: Sequence[int],
    rps: Sequence[float],
    p50: Sequence[float | None],
    p95: Sequence[float | None],
    users: Sequence[int],
) -> str:
    """A load run second by second: requests per second and users on the left axis, latency
    percentiles (ms) on the right."""
    chart = pygal.Line(
        **_options(
            "Load over time: requests/s and users (left), latency ms (right)",
            x_title="seconds into the run",
            show_dots=False,
            x_labels_major_every=max(1, len(seconds) // 10),
            show_minor_x_labels=False,
        )
    )
    chart.x_labels = [str(s) for s in seconds]
    chart.add("requests/s", [round(v, 1) for v in rps])
    chart.add("users", list(users))
    chart.add("p50 ms", [None if v is None else round(v, 1) for v in p50], secondary=True)
    chart.add("p95 ms", [None if v is None else round(v, 1) for v in p95], secondary=True)
    return str(chart.render(is_unicode=True))


def percentiles_with_intervals(
    rows: Sequence[tuple[str, float, float | None, float | None, float | None]],
) -> str:
    """SLO latency percentiles (ms): the estimate between its confidence bounds, beside the
    objective."""
    # logarithmic: a 3 ms estimate and a 500 ms objective both stay readable
    chart = pygal.Bar(
        **_options(
            "SLO latency (ms, log scale): estimate, confidence interval, objective",
            logarithmic=True,
        )
    )
    chart.x_labels = [label for label, *_ in rows]
    chart.add("interval low", [low for _, _, low, _, _ in rows])
    chart.add("estimate", [round(value, 1) for _, value, _, _, _ in rows])
    chart.add("interval high", [high for _, _, _, high, _ in rows])
    chart.add("objective", [limit for *_, limit in rows])
    return str(chart.render(is_unicode=True))


def against_baseline(rows: Sequence[tuple[str, float, float | None]]) -> str:
    """Median latency after the deploy over before it, per endpoint, beside the allowed ratio."""
    chart = pygal.HorizontalBar(
        **_options("Median latency against the baseline (x)", height=max(220, 50 * len(rows) + 80))
    )
    chart.x_labels = [name for name, _, _ in rows]
    chart.add("now / before", [round(value, 3) for _, value, _ in rows])
    chart.add("allowed", [limit for _, _, limit in rows])
    return str(chart.render(is_unicode=True))


def _probes_over_time(
    title: str,
    x_title: str,
    ok: Sequence[tuple[float, float]],
    failed: Sequence[tuple[float, float]],
    markers: Sequence[tuple[str, float]],
) -> str:
    chart = pygal.XY(**_options(title, x_title=x_title, stroke=False, dots_size=2))
    top = max([v for _, v in [*ok, *failed]] or [1.0])
    chart.add("ok", [(round(t, 2), round(v, 1)) for t, v in ok])
    chart.add("failed", [(round(t, 2), round(v, 1)) for t, v in failed])
    for label, t in markers:
        chart.add(label, [(round(t, 2), 0), (round(t, 2), top)], stroke=True, show_dots=False)
    return str(chart.render(is_unicode=True))


def deploy_timeline(
    ok: Sequence[tuple[float, float]],
    failed: Sequence[tuple[float, float]],
    command: tuple[float, float] | None,
) -> str:
    """Every probe `watch` sent during a deploy: latency (ms) over time, failed probes apart,
    and the deploy command's start and end as vertical lines."""
    markers = [("deploy started", command[0]), ("deploy ended", command[1])] if command else []
    return _probes_over_time(
        "Probes during the deploy: latency ms over seconds (failed probes in red)",
        "seconds into the watch",
        ok,
        failed,
        markers,
    )


def rollout_probes(
    ok: Sequence[tuple[float, float]],
    failed: Sequence[tuple[float, float]],
    changes: Sequence[tuple[str, float]],
) -> str:
    """A rollout's soak probes: latency (ms) over seconds since it started, failed probes
    apart, and each stage's traffic change as a vertical line."""
    return _probes_over_time(
        "Probes while soaking each stage: latency ms over seconds (failed in red)",
        "seconds into the rollout",
        ok,
        failed,
        [(f"traffic: {label}", t) for label, t in changes],
    )


def verdict_colour(verdict: str) -> str:
    return _VERDICT_COLOURS.get(verdict, "#8a93a3")


_OUTCOME_COLOURS = ("#2e7d32", "#c62828", "#f29d0b")  # up, down, unknown


def uptime_checks(
    up: Sequence[tuple[float, float]],
    down: Sequence[tuple[float, float]],
    unknown: Sequence[tuple[float, float]],
) -> str:
    """Every check of a monitor: the gate run's duration (s) over time (minutes), by outcome."""
    chart = pygal.XY(
        **_options(
            "Checks over time: gate run duration (s), by outcome",
            x_title="minutes since the monitor started",
            stroke=False,
            dots_size=3,
            include_x_axis=True,
        )
    )
    chart.config.style = Style(**{**_STYLE.__dict__, "colors": _OUTCOME_COLOURS})
    for label, points in (
        ("up", up),
        ("down", down),
        ("unknown (measurement problem)", unknown),
    ):
        chart.add(label, [(round(t, 2), round(v, 2)) for t, v in points])
    return str(chart.render(is_unicode=True))


def availability_over_time(points: Sequence[tuple[float, float]], objective: float) -> str:
    """Availability so far (%) after each check that measured, against the objective."""
    chart = pygal.XY(
        **_options(
            "Availability so far (%) against the objective",
            x_title="minutes since the monitor started",
            dots_size=2,
        )
    )
    chart.config.style = Style(**{**_STYLE.__dict__, "colors": ("#2f6fdf", "#c62828")})
    chart.add("availability", [(round(t, 2), round(v, 3)) for t, v in points])
    if points:
        first, last = points[0][0], points[-1][0]
        chart.add("objective", [(first, objective), (last, objective)], show_dots=False)
    return str(chart.render(is_unicode=True))


# A measurement's outcome: (name, the mark printed beside its point, colour). The mark and the
# legend tell the outcomes apart without the colour.
_MEASUREMENT_OUTCOMES = (
    ("success", "✓", "#2e7d32"),
    ("failure", "✗", "#c62828"),
    ("inconclusive", "?", "#f29d0b"),
    ("error", "!", "#6a1b9a"),
)
_OTHER_OUTCOME = ("•", "#8a93a3")
_THRESHOLD_COLOUR = "#1d2330"
# pygal's own rules (under the chart's id) draw every line 1px wide and print a label white
# when its series' colour is dark; these override them in metric charts only
_METRIC_CSS = (
    "inline:.metric-series-chart .series .line { stroke-width: 3px !important; }"
    " .metric-series-chart .text-overlay text { fill: #1d2330 !important; }"
)


def metric_series(
    name: str,
    x_title: str,
    points: Sequence[tuple[float, float, str]],
    threshold: tuple[float, str] | None,
    x_labels: Sequence[float] | None = None,
) -> str:
    """One metric check's measurements: each (x, value, outcome) a dot in the outcome's colour
    with its mark beside it (✓ ✗ ? !), and the number the success condition holds the value to,
    when there is one, as a line labelled with the condition."""
    chart = pygal.XY(
        **_options(
            f"{name}: each measurement, by outcome",
            x_title=x_title,
            stroke=False,
            dots_size=5,
            print_labels=True,
            height=280,
            margin_right=24,  # room for the mark beside the last point
            truncate_legend=20,
            classes=["pygal-chart", "metric-series-chart"],
            css=[*pygal.Config().css, _METRIC_CSS],
        )
    )
    if x_labels is not None:
        chart.x_labels = list(x_labels)
    levels = [v for _, v, _ in points] + ([threshold[0]] if threshold else [])
    if levels:  # a margin above and below, so no dot sits on the plot's edge
        low, high = min(levels), max(levels)
        pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
        chart.config.range = (low - pad, high + pad)
    known = [outcome for outcome, _, _ in _MEASUREMENT_OUTCOMES]
    others = sorted({o for _, _, o in points if o not in known})
    looks = [*_MEASUREMENT_OUTCOMES, *((o, *_OTHER_OUTCOME) for o in others)]
    colours: list[str] = []
    for outcome, mark, colour in looks:
        mine = [(x, v) for x, v, o in points if o == outcome]
        if not mine:
            continue
        chart.add(
            f"{mark} {outcome}",
            [{"value": (round(x, 2), round(v, 4)), "label": mark} for x, v in mine],
        )
        colours.append(colour)
    if threshold is not None and points:
        level, text = threshold
        xs = [x for x, _, _ in points]
        low, high = min(xs), max(xs)
        high = high if high > low else low + 1  # one measurement: a line still shows
        # the condition is printed at the line's start, beside a dot of no size: pygal prints
        # labels only beside dots
        chart.add(
            "threshold",
            [{"value": (round(low, 2), level), "label": text}, (round(high, 2), level)],
            stroke=True,
            dots_size=0,
        )
        colours.append(_THRESHOLD_COLOUR)
    # value_font_size sets how far from its dot a mark is printed (no values are printed)
    chart.config.style = Style(
        **{
            **_STYLE.__dict__,
            "colors": tuple(colours) or _STYLE.colors,
            "value_font_size": 8,
            "value_label_font_size": 14,
        }
    )
    return str(chart.render(is_unicode=True))


def outcome_mark(outcome: str) -> str:
    """The mark a measurement's outcome has on its chart (✓ ✗ ? !), for the tables beside it."""
    return next((m for o, m, _ in _MEASUREMENT_OUTCOMES if o == outcome), _OTHER_OUTCOME[0])


def objective_over_runs(
    title: str,
    labels: Sequence[str],
    verdicts: Sequence[str],
    series: dict[str, Sequence[float | None]],
    objective: tuple[float, str] | None,
) -> str:
    """An indicator run after run (oldest first): one line per source or page, each point
    coloured by its run's verdict (the x label names the verdict too: colour is never the only
    signal), and the objective as a dashed line labelled with its condition."""
    chart = pygal.Line(
        **_options(
            title,
            x_label_rotation=30,
            dots_size=5,
            truncate_label=-1,
            truncate_legend=-1,
            legend_at_bottom=True,
            height=360,
        )
    )
    # lines in colours that are no verdict's, the objective dark
    lines = tuple(_SERIES_COLOURS[n % len(_SERIES_COLOURS)] for n in range(len(series)))
    chart.config.style = Style(**{**_STYLE.__dict__, "colors": (*lines, "#1d2330")})
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(
            name,
            [
                None
                if v is None
                else {"value": round(v, 4), "color": verdict_colour(verdict), "label": verdict}
                for v, verdict in zip(values, verdicts, strict=True)
            ],
        )
    if objective is not None:
        value, text = objective
        chart.add(
            f"objective ({text})",
            [value] * len(labels),
            show_dots=False,
            stroke_style={"width": 3, "dasharray": "14, 6"},
        )
    return str(chart.render(is_unicode=True))
