"""Judging a load run: did it run, and did the target keep up? Pure functions over `LoadRun`
figures, each one check's rule returning a `Judged` (its message says what was seen).

No requests, or fewer than `min_requests` answered, is missing evidence: Locust reports a
failure ratio of 0.0 when nothing ran, which is not a pass. Requests sent and none answered
(refused, reset, timed out) is `TargetUnreachable`: the core decides whether that is an outage
(ROLLBACK) or a gate that cannot reach it (HOLD); this module only says what was seen.

Latency and rate count answered requests only (successes and HTTP error responses); a request
that failed without an answer has no latency (it counts against the failure ratio), unless it
had already waited longer than the limit (a timeout is at least that slow). Percentiles are
judged like the SLO gate judges them (`releasegate.load.latency`): with their interval, and
allowing for Locust's rounding.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import EvidenceMissing, LoadDidNotRun, StatsUnreadable, TargetUnreachable
from releasegate.load.latency import ROUNDING_CAVEAT, judge_histogram
from releasegate.load.params import OFF_TARGET
from releasegate.load.runner import LoadRun
from releasegate.load.stats import EndpointStats, LoadStats, read_stats
from releasegate.outcome import Figures, Judged, Judgement
from releasegate.slo.judge import at_most_message


@dataclass(frozen=True)
class LoadEvidence:
    """What a finished run leaves to judge: its statistics, why it stopped if we stopped it,
    the target, and Locust's failures (error text, occurrences), most frequent first."""

    stats: LoadStats
    stopped: dict[str, object] | None
    where: str  # "profile smoke-load against http://..., env=local"
    target: str = ""
    errors: tuple[tuple[str, int], ...] = ()


def read_failures(path: Path) -> tuple[tuple[str, int], ...]:
    """Locust's `_failures.csv` as (error, occurrences) over every request name, most frequent
    first; empty when it is not there or cannot be read (it only names errors)."""
    counts: Counter[str] = Counter()
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                try:
                    counts[str(row.get("Error") or "")] += int(row.get("Occurrences") or 0)
                except ValueError:
                    continue
    except (OSError, csv.Error):
        return ()
    return tuple(counts.most_common())


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
    return LoadEvidence(
        stats=stats,
        stopped=stopped,
        where=where,
        target=run.plan.params.target,
        errors=read_failures(run.plan.failures_csv),
    )


def _errors_text(errors: tuple[tuple[str, int], ...], shown: int = 2) -> str:
    if not errors:
        return "Locust recorded no error text"
    text = "; ".join(f"{error} ({count}x)" for error, count in errors[:shown])
    more = len(errors) - shown
    return f"Locust's errors: {text}" + (f"; and {more} more" if more > 0 else "")


def require_answered(evidence: LoadEvidence) -> EndpointStats:
    """The overall figures, if some requests were answered (or none were sent: that is for
    `require_enough` to say). `TargetUnreachable` when requests went out and none came back;
    `EvidenceMissing` when answered and unanswered failures cannot be told apart."""
    total = evidence.stats.total
    answered = total.answered_requests
    if total.requests and answered is None:
        raise EvidenceMissing(
            f"{total.failures} of {total.requests} requests failed and the guard's"
            f" answered-request statistics are missing: cannot tell answered requests from"
            f" unanswered ones ({evidence.where})"
        )
    if total.requests and answered == 0:
        target = evidence.target or "the target"
        raise TargetUnreachable(
            f"{target} answered none of {total.requests} request(s): {total.unanswered}"
            f" failed without a response; {_errors_text(evidence.errors)} ({evidence.where})"
        )
    return total


def require_enough(evidence: LoadEvidence, minimum: int) -> EndpointStats:
    """The overall figures, if enough requests were answered to judge anything."""
    total = evidence.stats.total
    if total.requests == 0:
        raise EvidenceMissing(
            f"0 request(s) sent, fewer than the {minimum} needed to judge"
            f" ([load] min_requests) ({evidence.where})"
        )
    answered = require_answered(evidence).answered_requests or 0
    if answered < minimum:
        raise EvidenceMissing(
            f"{answered} request(s) answered of {total.requests} sent, fewer than the"
            f" {minimum} needed to judge ([load] min_requests) ({evidence.where})"
        )
    return total


def judge_failure_ratio(evidence: LoadEvidence, limit: float, minimum: int) -> Judged:
    """Failures at most `limit`. A run the guard stopped for its failure ratio fails even with
    fewer than `minimum` requests: the sustained ratio is the evidence."""
    stopped = evidence.stopped or {}
    total = require_answered(evidence)
    if stopped.get("stopped") != "failure-ratio":
        total = require_enough(evidence, minimum)
    ratio = total.failure_ratio or 0.0
    aborted = ""
    if stopped.get("stopped") == "failure-ratio":
        aborted = (
            f"; stopped early after {stopped.get('at_s')}s: above"
            f" {float(str(stopped.get('limit'))):.1%} for {stopped.get('sustained_s')}s"
        )
    seen = f"failure ratio {ratio:.2%} ({total.failures} of {total.requests} requests)"
    figures = Figures(measured=ratio, limit=limit, samples=total.requests)
    if ratio > limit or aborted:
        return Judged.failed(f"{seen} exceeds {limit:.2%}{aborted} ({evidence.where})", **figures)
    return Judged.passed(f"{seen} within {limit:.2%} ({evidence.where})", **figures)


@dataclass(frozen=True)
class LatencyFinding(Judged):
    """One percentile judged against its limit: `measured` is the estimate (Locust's bucket,
    None without samples), `samples` the answered samples; the message does not say where it
    ran (callers add `evidence.where` once, however many endpoints are listed). `too_few`: no
    interval, because there were no samples or too few for one."""

    too_few: bool = False


def judge_latency(
    endpoint: EndpointStats, q: float, limit_ms: float, confidence: float
) -> LatencyFinding:
    """The percentile of the answered requests (and of the unanswered ones already slower than
    the limit) against `limit_ms`, with its interval and Locust's rounding: pass, fail or
    inconclusive."""
    name = f"{endpoint.label}: p{q * 100:g} latency"
    samples = endpoint.latency_samples(limit_ms)
    if samples is None:
        return LatencyFinding(
            Judgement.INCONCLUSIVE,
            f"{name}: {endpoint.failures} of {endpoint.requests} requests failed and answered"
            " ones cannot be told from unanswered ones",
            limit=limit_ms,
            samples=0,
        )
    counted = sum(samples.values())
    unanswered = endpoint.unanswered or 0
    slow = counted - (endpoint.answered_requests or 0)
    note = ""
    if unanswered:
        note = f"; {unanswered - slow} request(s) without an answer left out" + (
            f", {slow} counted as slower than {limit_ms:g} ms" if slow else ""
        )
    if counted == 0:
        return LatencyFinding(
            Judgement.INCONCLUSIVE,
            f"{name}: no answered requests of {endpoint.requests} sent{note}",
            limit=limit_ms,
            samples=0,
            too_few=True,
        )
    found = judge_histogram(samples, q, limit_ms, confidence)
    message = at_most_message(
        found.judgement,
        name,
        found.describe("ms"),
        f"{limit_ms:g} ms",
        note,
        caveat=ROUNDING_CAVEAT,
        advice="send more requests",
    )
    if found.interval is None:
        message = (
            f"{name}: {counted} answered requests are too few for a {confidence:.0%} interval;"
            f" {found.needed} needed{note}"
        )
    return LatencyFinding(
        found.judgement,
        message,
        measured=found.estimate,
        limit=limit_ms,
        samples=counted,
        too_few=found.interval is None,
    )


def judge_rps(evidence: LoadEvidence, minimum_rps: float, minimum: int) -> Judged:
    """Answered requests per second at least `minimum_rps`: requests refused do not count as
    served."""
    total = require_enough(evidence, minimum)
    rps = total.answered_rps
    if rps is None:
        raise EvidenceMissing(f"no request rate could be computed ({evidence.where})")
    seen = (
        f"{rps:.1f} answered requests/s ({total.answered_requests} answered of"
        f" {total.requests} sent)"
    )
    figures = Figures(measured=rps, limit=minimum_rps, samples=total.answered_requests)
    if rps < minimum_rps:
        return Judged.failed(
            f"{seen}, below the minimum {minimum_rps:g}/s ({evidence.where})", **figures
        )
    return Judged.passed(f"{seen}, at least {minimum_rps:g}/s ({evidence.where})", **figures)
