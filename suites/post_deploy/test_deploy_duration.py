"""Post-deploy: the deploy finished in the time it is allowed, as `releasegate watch` timed it."""

from releasegate.config import Environment
from releasegate.ops.watch import Timeline, deploy_duration, judge_duration
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_deploy_finished_within_max_duration(
    timeline: Timeline, env: Environment, measure: Measure, expect: Expect
) -> None:
    """The deploy finished within its time limit.

    The deploy command ran no longer than `[watch] max_duration` (default 30 min); one that
    was stopped at its limit did not finish, a failure too."""
    limit = env.model.watch.max_duration
    duration = deploy_duration(timeline)
    measure(
        "deploy duration",
        None if duration is None else round(duration, 3),
        unit="s",
        threshold=limit,
        comparison="<=",
    )

    expect.judged(
        judge_duration(timeline, limit),
        context=f"`{timeline.command}`, watch of {timeline.started_at}; env={env.name}",
    )
