"""Judging a load run: did it run, and did the target keep up? Pure functions over `LoadRun`
figures, each one check's rule phrased as its failure message.

No requests, or fewer than `min_requests`, is missing evidence: Locust reports a failure ratio
of 0.0 when nothing ran, which is not a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.errors import EvidenceMissing
from releasegate.load.params import OFF_TARGET
from releasegate.load.runner import LoadDidNotRun, LoadRun
from releasegate.load.stats import EndpointStats, LoadStats, StatsUnreadable, read_stats


@dataclass(frozen=True)
class LoadEvidence:
    """What a finished run leaves to judge: its statistics, and why it stopped if we stopped it."""

    stats: LoadStats
    stopped: dict[str, object] | None
    where: str  # "profile smoke-load against http://..., env=local"


def evidence_of(run: LoadRun, env_name: str) -> LoadEvidence:
    """The run's statistics; `LoadDidNotRun` (missing evidence) when Locust left none, with the
    line of its output that says why."""
    where = f"{run.plan.description}, env={env_name}"
    if run.timed_out:
        raise LoadDidNotRun(
            f"Locust did not finish within {run.plan.timeout_s:g}s and was stopped ({where});"
            f" last output: {run.error_line()}"
        )
    try:
        stats = read_stats(run.plan.stats_json)
    except StatsUnreadable as exc:
        raise LoadDidNotRun(
            f"Locust did not run (exit {run.exit_code}): {run.error_line()} ({where}; {exc})"
        ) from None
    stopped = run.guard
    refused = sum(e.requests for e in stats.endpoints if e.name == OFF_TARGET)
    if stopped and stopped.get("stopped") == "off-target":
        refused = max(refused, int(str(stopped.get("requests") or 0)))
    if refused:
        raise LoadDidNotRun(
            f"the locustfile sent {refused} request(s) off the target; the run was stopped"
            f" and cannot be judged ({where})"
        )
    return LoadEvidence(stats=stats, stopped=stopped, where=where)


def require_enough(evidence: LoadEvidence, minimum: int) -> EndpointStats:
    """The overall figures, if there are enough requests to judge anything."""
    total = evidence.stats.total
    if total.requests < minimum:
        raise EvidenceMissing(
            f"{total.requests} request(s) sent, fewer than the {minimum} needed to judge"
            f" ([load] min_requests) ({evidence.where})"
        )
    return total


def failure_ratio_problem(evidence: LoadEvidence, limit: float, minimum: int) -> str | None:
    """Failures over `limit`. A run the guard stopped for its failure ratio fails even with
    fewer than `minimum` requests: the sustained ratio is the evidence."""
    stopped = evidence.stopped or {}
    total = evidence.stats.total
    if stopped.get("stopped") != "failure-ratio":
        total = require_enough(evidence, minimum)
    ratio = total.failure_ratio or 0.0
    aborted = ""
    if stopped.get("stopped") == "failure-ratio":
        aborted = (
            f"; stopped early after {stopped.get('at_s')}s: above"
            f" {float(str(stopped.get('limit'))):.1%} for {stopped.get('sustained_s')}s"
        )
    if ratio > limit or aborted:
        return (
            f"failure ratio {ratio:.2%} ({total.failures} of {total.requests} requests) exceeds"
            f" {limit:.2%}{aborted} ({evidence.where})"
        )
    return None


def latency_problem(
    endpoint: EndpointStats, q: float, limit_ms: float, evidence: LoadEvidence
) -> str | None:
    """The percentile over its limit, phrased without where it ran (callers add
    `evidence.where` once, however many endpoints are listed)."""
    measured = endpoint.percentile(q)
    if measured is None:
        raise EvidenceMissing(f"no response times for {endpoint.label} ({evidence.where})")
    if measured > limit_ms:
        return (
            f"{endpoint.label}: p{q * 100:g} latency {measured:g} ms over {endpoint.requests}"
            f" requests exceeds {limit_ms:g} ms"
        )
    return None


def rps_problem(evidence: LoadEvidence, minimum_rps: float, minimum: int) -> str | None:
    total = require_enough(evidence, minimum)
    rps = total.rps
    if rps is None:
        raise EvidenceMissing(f"no request rate could be computed ({evidence.where})")
    if rps < minimum_rps:
        return (
            f"{rps:.1f} requests/s over {total.requests} requests, below the minimum"
            f" {minimum_rps:g}/s ({evidence.where})"
        )
    return None
