"""Smoke: live updates work: each `[[realtime]]` channel (WebSocket or server-sent events)
connects and its expected message arrives in time (docs/realtime.md)."""

import pytest

from releasegate.checks.realtime import Channel, judge_realtime, on_target, watch_channel
from releasegate.config import Environment
from releasegate.config.realtime_tables import RealtimeCheck
from releasegate.errors import RequestNotSent, TargetUnreachable
from releasegate.ops.reachability import note_answer
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_realtime(
    realtime_check: RealtimeCheck,
    gate_run: GateRun,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Live channel "{realtime_check}" delivers its expected message in time.

    The channel connects and the expected message arrives within `timeout` (after the
    `after` action, whose broadcast it is, when the entry has one)."""
    if realtime_check.writes and env.read_only:
        after = realtime_check.after.label if realtime_check.after else "?"
        pytest.skip(f"`after` {after} writes to the target, and env={env.name} is read-only")
    target = env.target
    channel = Channel(gate_run.base_url, target.headers, target.timeout, target.verify_tls)
    try:
        seen = watch_channel(realtime_check, channel)
    except (TargetUnreachable, RequestNotSent) as exc:
        raise type(exc)(gate_run.redactor.redact(f"{exc} (env={env.name})")) from None
    if seen.answered and on_target(seen.url, gate_run.base_url):  # evidence the target is up
        note_answer(gate_run.run_dir, gate_run.base_url)
    limit_ms = realtime_check.timeout * 1000
    measure("connect", seen.connect_ms, unit="ms", threshold=limit_ms, comparison="<=")
    measure("time to message", seen.message_ms, unit="ms", threshold=limit_ms, comparison="<=")

    expect.judged(
        judge_realtime(realtime_check, seen, gate_run.redactor), context=f"env={env.name}"
    )
