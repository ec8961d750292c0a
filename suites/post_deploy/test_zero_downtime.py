"""Post-deploy: the deploy caused no downtime, as `releasegate watch` saw it while it ran."""

import shutil

import pytest

from releasegate.config import Environment
from releasegate.errors import EvidenceMissing, EvidenceStale
from releasegate.ops.watch import TIMELINE_FILE, Timeline, find_timeline, judge_watch, summarise
from releasegate.outcome import Judgement
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Expect, Measure


@pytest.fixture(scope="module")
def timeline(gate_run: GateRun, env: Environment) -> Timeline:
    """The newest watch timeline of this environment and target, ended (by its own clock) within
    `[watch] max_age`, copied into this run for the report. Without one the check is skipped,
    or missing evidence with `[watch] required = true`; a timeline of another target or too old
    is named, with why, as stale evidence."""
    config = env.model.watch
    search = find_timeline(
        env.name,
        gate_run.reports_dir,
        target=gate_run.base_url,
        max_age_s=config.max_age,
        redactor=gate_run.redactor,
    )
    if search.path is None or search.timeline is None:
        why = (
            f"{search.why_none(config.max_age)}: deploy with `releasegate watch --env"
            f" {env.name} -- DEPLOY_COMMAND`"
        )
        if search.rejected:
            why = f"evidence-stale: {why}"
        why = gate_run.redactor.redact(why)
        if config.required:
            raise EvidenceStale(why) if search.rejected else EvidenceMissing(why)
        pytest.skip(why)
    if search.path.parent != gate_run.run_dir:
        shutil.copyfile(search.path, gate_run.run_dir / TIMELINE_FILE)
    return search.timeline


def test_deploy_caused_no_downtime(
    timeline: Timeline, env: Environment, measure: Measure, expect: Expect
) -> None:
    """While the deploy command ran, at most `[watch] max_failed` probes failed (default 0) and
    no stretch without a successful probe was longer than `max_gap` (default 2 s)."""
    config = env.model.watch
    judged = judge_watch(timeline, config)
    context = f"watch of {timeline.started_at}; env={env.name}"
    if judged.judgement is Judgement.INCONCLUSIVE:  # no evidence: nothing to measure
        expect.judged(judged, context=context)
    summary = summarise(timeline)
    measure(
        "failed probes",
        summary.failed,
        threshold=config.max_failed,
        comparison="<=",
        samples=summary.probes,
    )
    measure(
        "longest gap",
        round(summary.longest_gap_s, 3),
        unit="s",
        threshold=config.max_gap,
        comparison="<=",
        samples=summary.probes,
    )

    expect.judged(judged, context=f"downtime during `{timeline.command}`; {context}")
