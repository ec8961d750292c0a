"""Post-deploy: the deploy caused no downtime, as `releasegate watch` saw it while it ran."""

from releasegate.config import Environment
from releasegate.ops.watch import Timeline, judge_watch, summarise
from releasegate.outcome import Judgement
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_deploy_caused_no_downtime(
    timeline: Timeline, env: Environment, measure: Measure, expect: Expect
) -> None:
    """The deploy caused no downtime.

    While the deploy command ran, at most `[watch] max_failed` probes failed (default 0) and
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
