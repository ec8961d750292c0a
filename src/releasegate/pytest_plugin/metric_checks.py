"""The team's own checks, `[[metrics]]` and `[[logs]]`, in whichever stages they name.

Each stage's suite has a `test_metrics.py` that sets `STAGE` and imports the checks below; this
module parametrizes them with the environment's entries of that stage (`test_metric[<name>]`,
`test_log[<name>]`; in the pre-deploy stage also `test_metric_before[<name>]` for metrics with
`before = "baseline"`). An `advisory = true` entry is marked advisory: shown, never votes.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from releasegate.config import Environment, LogCheck, MetricCheck
from releasegate.errors import EvidenceMissing, LogUnreadable
from releasegate.evidence.results import RESULTS_FILE, EvidenceError, read_results
from releasegate.metrics.analysis import Limits, judge, measure_all
from releasegate.metrics.log_scan import judge_log, scan
from releasegate.metrics.log_sources import read_new_lines
from releasegate.metrics.measurement import Conditions, Measured, measure_once
from releasegate.metrics.metric_baseline import find_before, take_before
from releasegate.metrics.prometheus_provider import PrometheusProvider
from releasegate.metrics.provider import Provider, Value
from releasegate.metrics.providers import provider_for
from releasegate.ops.watch import find_timeline
from releasegate.outcome import Judged
from releasegate.pytest_plugin._keys import GATE_RUN, GateRun
from releasegate.pytest_plugin.fixtures import Expect, Measure
from releasegate.pytest_plugin.slo_fixtures import SCRAPE_WAIT_S

_FIXTURES = ("metric_check", "log_check", "metric_before")
_NONE = "none"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One check per entry of this suite's stage; a stage without any gets a placeholder that
    `pytest_collection_modifyitems` deselects (an environment without `[[metrics]]` has no
    such checks at all, not skipped ones in every report)."""
    run = metafunc.config.stash.get(GATE_RUN, None)
    stage = getattr(metafunc.module, "STAGE", None)
    if run is None or stage is None:
        return
    model = run.env.model
    wanted: list[tuple[str, list[MetricCheck] | list[LogCheck]]] = [
        ("metric_check", [m for m in model.metrics if stage in m.stage]),
        ("log_check", [log for log in model.logs if stage in log.stage]),
        ("metric_before", [m for m in model.metrics if m.before == "baseline"]),
    ]
    for fixture, entries in wanted:
        if fixture not in metafunc.fixturenames:
            continue
        params = [
            pytest.param(
                entry,
                id=run.redactor.redact(entry.name),
                marks=[pytest.mark.advisory] if entry.advisory else [],
            )
            for entry in entries
        ]
        metafunc.parametrize(fixture, params or [pytest.param(None, id=_NONE)])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the placeholders of stages without entries (before -m and the run order)."""
    kept: list[pytest.Item] = []
    placeholders: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        empty = any(name in params and params[name] is None for name in _FIXTURES)
        (placeholders if empty else kept).append(item)
    if placeholders:
        config.hook.pytest_deselected(items=placeholders)
        items[:] = kept


def _skip_placeholder(entry: object, kind: str, request: pytest.FixtureRequest) -> None:
    if entry is None:
        stage = getattr(request.module, "STAGE", "?")
        env = request.getfixturevalue("env")
        pytest.skip(f"no [[{kind}]] for stage {stage} in env={env.name}")


def test_metric(
    metric_check: MetricCheck | None,
    gate_run: GateRun,
    env: Environment,
    measure: Measure,
    expect: Expect,
    request: pytest.FixtureRequest,
) -> None:
    """Metric "{metric_check}" stays within its limits.

    The team's metric, measured `count` times `interval` apart, holds its success condition
    within the limits (Argo Rollouts' failureLimit, inconclusiveLimit, consecutiveErrorLimit);
    no data is never a pass."""
    _skip_placeholder(metric_check, "metrics", request)
    assert metric_check is not None
    conditions = _conditions(metric_check, gate_run)
    provider = _provider(metric_check, gate_run)
    limits = Limits(
        count=metric_check.count,
        failure_limit=metric_check.failure_limit,
        inconclusive_limit=metric_check.inconclusive_limit,
        consecutive_error_limit=metric_check.consecutive_error_limit,
    )
    measured = measure_all(
        lambda: measure_once(provider, conditions, metric_check.unit),
        limits,
        interval_s=metric_check.interval,
        initial_delay_s=metric_check.initial_delay,
    )
    _record(measure, metric_check, measured, gate_run)
    verdict = judge(metric_check.name, measured, limits, metric_check.unit)
    where = gate_run.redactor.redact(provider.where)
    expect.judged(_masked(verdict, gate_run), context=f"{where}; env={env.name}")


def test_metric_before(
    metric_before: MetricCheck | None,
    gate_run: GateRun,
    env: Environment,
    measure: Measure,
    request: pytest.FixtureRequest,
) -> None:
    """Metric "{metric_before}" is recorded before the deploy.

    The value of each metric with `before = "baseline"`, measured now, before the deploy,
    and kept with the baseline for the checks that compare against it."""
    _skip_placeholder(metric_before, "metrics", request)
    assert metric_before is not None
    provider = _provider(metric_before, gate_run)
    where = gate_run.redactor.redact(provider.where)
    try:
        before, reading = take_before(
            metric_before.name,
            provider,
            environment=env.name,
            target_url=gate_run.base_url,
            folder=gate_run.run_dir,
        )
    except EvidenceMissing as exc:  # the provider failed, or no data
        raise EvidenceMissing(gate_run.redactor.redact(f"{exc} (env={env.name})")) from None
    measure(
        f"{metric_before.name} before",
        _value_for_evidence(before.value, gate_run),
        unit=metric_before.unit,
        at=before.taken_at,
        source="baseline",
        note=gate_run.redactor.redact(f"{reading.note}; {where}"),
    )


def test_log(
    log_check: LogCheck | None,
    gate_run: GateRun,
    env: Environment,
    measure: Measure,
    expect: Expect,
    request: pytest.FixtureRequest,
) -> None:
    """Log check "{log_check}" finds no more matching lines than allowed.

    No more than `max` lines matching `pattern` (and none of `ignore`) were written to the
    log since the deploy started; a log that cannot be read is never a pass."""
    _skip_placeholder(log_check, "logs", request)
    assert log_check is not None
    since, since_what = deploy_start(gate_run)
    try:
        lines = read_new_lines(log_check, since=since, run_dir=gate_run.run_dir, cwd=env.repository)
    except LogUnreadable as exc:
        raise LogUnreadable(
            gate_run.redactor.redact(f"{log_check.name}: {exc} (env={env.name})")
        ) from None
    found = scan(log_check, lines, gate_run.redactor)
    shown_since = f"{since.isoformat(timespec='seconds')} ({since_what})"
    measure(
        "matching lines",
        len(found.matching),
        threshold=log_check.max,
        comparison="<=",
        samples=found.read,
        note=f"since {shown_since}: " + ("; ".join(found.matching[:3]) or "none"),
    )
    expect.judged(judge_log(log_check, found, shown_since), context=f"env={env.name}")


def deploy_start(gate_run: GateRun) -> tuple[datetime, str]:
    """When the deploy started: the newest watch timeline's start for this environment and
    target, else this run's start."""
    env = gate_run.env
    search = find_timeline(
        env.name,
        gate_run.reports_dir,
        target=gate_run.base_url,
        max_age_s=env.model.watch.max_age,
        redactor=gate_run.redactor,
    )
    if search.timeline is not None:
        started = datetime.fromisoformat(search.timeline.started_at)
        return started.astimezone(UTC), "the deploy's watch started"
    try:
        return read_results(gate_run.run_dir).run.started_at.astimezone(UTC), "this run started"
    except EvidenceError:
        pass
    path = gate_run.run_dir / RESULTS_FILE
    raise EvidenceMissing(f"no start time for the log checks: {path} unreadable")


def _provider(check: MetricCheck, gate_run: GateRun) -> Provider:
    provider = provider_for(check, gate_run.env, gate_run.base_url, gate_run.prometheus_url)
    if isinstance(provider, PrometheusProvider) and provider.prometheus.url == (
        gate_run.prometheus_url or ""
    ).rstrip("/"):
        # started for this run: it may not have scraped the target yet
        provider.prometheus.wait_until_scraping(SCRAPE_WAIT_S)
    return provider


def _conditions(check: MetricCheck, gate_run: GateRun) -> Conditions:
    success, *rest = check.conditions()
    failure = rest[0] if rest else None
    conditions = Conditions(success, failure)
    if check.before is None or not conditions.needs_before():
        return conditions
    env = gate_run.env
    search = find_before(
        check.name,
        run_dir=gate_run.run_dir,
        reports_dir=gate_run.reports_dir,
        environment=env.name,
        target_url=gate_run.base_url,
        max_age_s=env.model.slo.baseline.max_age,
    )
    if search.found is None:
        return Conditions(success, failure, None, gate_run.redactor.redact(search.reason))
    return Conditions(success, failure, search.found.value)


def _value_for_evidence(value: Value, gate_run: GateRun) -> float | str | None:
    if value is None or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else json.dumps(value)
    return gate_run.redactor.redact(text[:500])


def _record(
    measure: Measure, check: MetricCheck, measured: list[Measured], gate_run: GateRun
) -> None:
    for number, m in enumerate(measured, 1):
        measure(
            f"{check.name} #{number}",
            _value_for_evidence(m.value, gate_run),
            unit=check.unit,
            threshold=check.success,
            at=m.at,
            outcome=m.outcome,
            note=gate_run.redactor.redact(m.message)[:300],
            source=check.provider,
        )


def _masked(verdict: Judged, gate_run: GateRun) -> Judged:
    return replace(verdict, message=gate_run.redactor.redact(verdict.message))
