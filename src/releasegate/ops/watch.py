"""Zero downtime during a deploy: probe the target at a fixed rate while the deploy command runs,
keep every probe in a timeline, and judge it (failed probes, longest time without a success).

`releasegate watch --env E -- DEPLOY_COMMAND...` writes the timeline (timeline.json, schema
`releasegate.timeline/1`); the post-deploy gate reads the newest one of its environment.

Each probe opens a fresh connection: a keep-alive connection that the server closes while the
client reuses it would read as downtime that no new user sees, and a pooled connection to a
process that is going away would hide that the new one does not answer.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx

from releasegate.config import Environment, WatchConfig
from releasegate.documents import read_document
from releasegate.errors import TimelineUnreadable
from releasegate.evidence.results import write_atomically
from releasegate.net import same_target
from releasegate.ops.processes import run_in_group
from releasegate.outcome import Judged, Judgement, Verdict
from releasegate.redact import Redactor

SCHEMA = "releasegate.timeline/1"
TIMELINE_FILE = "timeline.json"
COMMAND_LOG = "deploy-command.log"
Phase = Literal["before", "during", "after"]
StoppedBy = Literal["command", "max_duration", "interrupted", "not_started"]


@dataclass(frozen=True)
class ProbeRecord:
    """One probe: when it was sent (seconds since the watch began), what, and what came back."""

    t: float
    path: str
    phase: Phase
    status: int | None
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """An answer a user would accept: 2xx or 3xx, in time."""
        return self.status is not None and 200 <= self.status < 400


@dataclass
class Timeline:
    """Everything `watch` saw: the probes and the deploy command's start, end and exit."""

    environment: str
    target_url: str
    command: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    command_started_t: float | None = None
    command_ended_t: float | None = None
    command_exit: int | None = None
    stopped_by: StoppedBy = "not_started"
    rate_per_s: float = 0.0
    duration_s: float = 0.0
    probes: list[ProbeRecord] = field(default_factory=list)
    # the limit the command ran under (`[watch] max_duration` or `--max-duration`); None in
    # timelines written before it was recorded
    max_duration_s: float | None = None

    def to_json(self, redactor: Redactor | None = None) -> str:
        text = json.dumps({"schema": SCHEMA, **asdict(self)}, indent=1)
        return redactor.redact(text) if redactor else text

    def write(self, path: Path, redactor: Redactor | None = None) -> None:
        write_atomically(path, self.to_json(redactor))

    @property
    def command_failed(self) -> bool:
        return self.stopped_by != "command" or self.command_exit != 0


def read_timeline(path: Path) -> Timeline:
    raw = read_document(path, SCHEMA, TimelineUnreadable)
    try:
        probes = [ProbeRecord(**p) for p in raw.pop("probes")]
        return Timeline(**raw, probes=probes)
    except (KeyError, TypeError, ValueError) as exc:
        raise TimelineUnreadable(f"{path}: unexpected content: {exc}") from None


@dataclass(frozen=True)
class Outage:
    """A stretch without a successful probe: from the last success before it (or the start)
    to the first success after it (or the end)."""

    start_t: float
    end_t: float
    failed: int

    @property
    def seconds(self) -> float:
        return self.end_t - self.start_t


@dataclass(frozen=True)
class TimelineSummary:
    probes: int
    failed: int
    longest_gap_s: float
    worst: Outage | None
    errors: Mapping[str, int]  # what the failed probes said, counted

    @property
    def failure_ratio(self) -> float:
        return self.failed / self.probes if self.probes else math.nan


def summarise(timeline: Timeline) -> TimelineSummary:
    """Failed probes and the longest time without a success (the window's ends count: a target
    that never answers has a gap as long as the watch)."""
    probes = sorted(timeline.probes, key=lambda p: p.t)
    errors: dict[str, int] = {}
    for probe in probes:
        if not probe.ok:
            key = probe.error or f"HTTP {probe.status}"
            errors[key] = errors.get(key, 0) + 1
    end = max(timeline.duration_s, probes[-1].t if probes else 0.0)
    outages: list[Outage] = []
    last_success = 0.0
    failed_since = 0
    for probe in probes:
        if not probe.ok:
            failed_since += 1
            continue
        if failed_since:
            outages.append(Outage(last_success, probe.t, failed_since))
        last_success, failed_since = probe.t, 0
    if failed_since:
        outages.append(Outage(last_success, end, failed_since))
    worst = max(outages, key=lambda o: o.seconds, default=None)
    longest_gap = _longest_gap(probes, end)
    return TimelineSummary(
        probes=len(probes),
        failed=sum(1 for p in probes if not p.ok),
        longest_gap_s=longest_gap,
        worst=worst,
        errors=errors,
    )


def _longest_gap(probes: Sequence[ProbeRecord], end: float) -> float:
    successes = [p.t for p in probes if p.ok]
    if not successes:
        return end
    edges = [0.0, *successes, end]
    return max(b - a for a, b in itertools.pairwise(edges))


@dataclass(frozen=True)
class WatchPlan:
    """What to probe, how often, and for how long at most."""

    base_url: str
    paths: Sequence[str]
    rate_per_s: float
    timeout_s: float
    before_s: float
    after_s: float
    max_duration_s: float
    headers: Mapping[str, str] = field(default_factory=dict)
    verify_tls: bool = True

    @property
    def max_probes(self) -> int:
        """The hard cap on probes, whatever happens: the rate over the longest possible watch."""
        return math.ceil(self.rate_per_s * (self.before_s + self.max_duration_s + self.after_s)) + 1


class _Prober:
    """Sends probes at a fixed rate from a scheduler thread; a slow probe never delays the next
    (a small pool answers them), so the timeline shows an outage at its real length."""

    def __init__(self, plan: WatchPlan, phase: Callable[[], Phase]) -> None:
        self.plan = plan
        self.phase = phase
        self.records: list[ProbeRecord] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()
        workers = max(2, min(32, math.ceil(plan.rate_per_s * plan.timeout_s) + 1))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="watch-probe")
        self._pending: list[Future[None]] = []
        self._thread = threading.Thread(target=self._schedule, name="watch-scheduler", daemon=True)

    def now(self) -> float:
        return time.monotonic() - self._started

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for future in self._pending:
            future.result()
        self._pool.shutdown(wait=True)

    def _schedule(self) -> None:
        interval = 1.0 / self.plan.rate_per_s
        for n in range(self.plan.max_probes):
            due = n * interval
            wait = due - self.now()
            if wait > 0 and self._stop.wait(wait):
                return
            if self._stop.is_set():
                return
            path = self.plan.paths[n % len(self.plan.paths)]
            self._pending.append(self._pool.submit(self._probe, path))

    def _probe(self, path: str) -> None:
        t = self.now()
        phase = self.phase()
        sent = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            # a new client each time: a fresh connection, as a new visitor would open
            with httpx.Client(
                base_url=self.plan.base_url,
                headers=dict(self.plan.headers),
                timeout=self.plan.timeout_s,
                verify=self.plan.verify_tls,
                follow_redirects=False,
            ) as client:
                status = client.get(path).status_code
        except httpx.TimeoutException:
            error = f"no answer within {self.plan.timeout_s:g}s"
        # RequestError, not only TransportError: a body that cannot be decoded (a corrupt gzip
        # from a half-deployed proxy) is a failed probe, not an exception that ends the watch
        except httpx.RequestError as exc:
            error = f"{type(exc).__name__}: {str(exc) or 'connection failed'}"[:200]
        latency = (time.perf_counter() - sent) * 1000
        record = ProbeRecord(round(t, 4), path, phase, status, round(latency, 2), error)
        with self._lock:
            self.records.append(record)


def watch_plan(
    env: Environment,
    target: str,
    *,
    rate: float | None = None,
    max_duration_s: float | None = None,
) -> WatchPlan:
    """The probing plan of an environment's `[watch]` table (paths default to the health path
    and every GET endpoint), with the command line's overrides."""
    config = env.model.watch
    health = [env.target.health_path] if env.target.health_path else []
    paths = config.paths or health + [e.path for e in env.model.endpoints if e.method == "GET"]
    paths = paths or ["/"]  # no health endpoint and no GET endpoint: the home page
    return WatchPlan(
        base_url=target,
        paths=list(dict.fromkeys(paths)),
        rate_per_s=rate or config.rate,
        timeout_s=config.timeout,
        before_s=config.before,
        after_s=config.after,
        max_duration_s=max_duration_s or config.max_duration,
        headers=env.target.headers,
        verify_tls=env.target.verify_tls,
    )


def probe_for(plan: WatchPlan, duration_s: float, *, environment: str, label: str) -> Timeline:
    """Probe for `duration_s` with no command running (a rollout stage's soak). The timeline
    reads as a command `label` that ran the whole time and exited 0, so it is judged like a
    watch. Ctrl-C stops the probes and propagates, so the caller can save its own state."""
    if not plan.paths:
        raise ValueError("nothing to probe: no paths")
    soak = replace(plan, before_s=0.0, after_s=0.0, max_duration_s=duration_s)
    timeline = Timeline(environment, plan.base_url, label, rate_per_s=plan.rate_per_s)
    # every probe is "after": the change being judged (the traffic step) is already made
    prober = _Prober(soak, lambda: "after")
    timeline.command_started_t = 0.0
    prober.start()
    try:
        time.sleep(duration_s)
        timeline.stopped_by = "command"
        timeline.command_exit = 0
    except KeyboardInterrupt:
        timeline.stopped_by = "interrupted"
        raise
    finally:
        timeline.command_ended_t = 0.0
        timeline.duration_s = round(prober.now(), 4)
        prober.stop()
        timeline.probes = sorted(prober.records, key=lambda p: p.t)
    return timeline


def run_watch(
    plan: WatchPlan,
    command: str | Sequence[str],
    *,
    environment: str,
    log: Path,
    cwd: Path | None = None,
    on_start: Callable[[], None] = lambda: None,
) -> Timeline:
    """Probe for `before_s`, run the command (at most `max_duration_s`), probe `after_s` more.

    Ctrl-C stops the command's whole process group and returns what was seen, marked
    interrupted. Bounded: at most `plan.max_probes` probes, whatever the command does."""
    if not plan.paths:
        raise ValueError("nothing to probe: no paths")
    shown = command if isinstance(command, str) else " ".join(command)
    timeline = Timeline(environment, plan.base_url, shown, rate_per_s=plan.rate_per_s)
    timeline.max_duration_s = plan.max_duration_s
    state: dict[str, Phase] = {"phase": "before"}
    prober = _Prober(plan, lambda: state["phase"])
    prober.start()
    try:
        time.sleep(plan.before_s)
        state["phase"] = "during"
        timeline.command_started_t = round(prober.now(), 4)
        ran = run_in_group(
            command, log=log, timeout_s=plan.max_duration_s, cwd=cwd, on_start=on_start
        )
        timeline.command_ended_t = round(prober.now(), 4)
        if ran.start_error is not None:  # the command could not start at all
            log.write_text(f"could not start {shown!r}: {ran.start_error}\n")
            timeline.stopped_by = "not_started"
        else:
            timeline.command_exit = ran.exit_code
            timeline.stopped_by = "max_duration" if ran.timed_out else "command"
            state["phase"] = "after"
            time.sleep(plan.after_s)
    except KeyboardInterrupt:  # the command's group is stopped already
        timeline.stopped_by = "interrupted"
        if timeline.command_started_t is not None and timeline.command_ended_t is None:
            timeline.command_ended_t = round(prober.now(), 4)
    finally:
        timeline.duration_s = round(prober.now(), 4)
        prober.stop()
    timeline.probes = sorted(prober.records, key=lambda p: p.t)
    return timeline


def judge_timeline(timeline: Timeline, *, max_failed: int, max_gap_s: float) -> Judged:
    """Downtime found (a failure) when more probes failed than allowed or the longest time
    without a successful probe is over the limit; `measured` is the timeline's summary.
    Whether there is evidence at all is `judge_watch`'s question (`evidence_problem`)."""
    summary = summarise(timeline)
    parts = [
        f"{summary.failed} of {summary.probes} probes failed (at most {max_failed})",
        f"longest gap without a success {summary.longest_gap_s:.2f}s (at most {max_gap_s:g}s)",
    ]
    if summary.worst is not None:
        w = summary.worst
        parts.append(f"worst outage {w.seconds:.2f}s from t={w.start_t:.2f}s ({w.failed} failed)")
    if summary.errors:
        top = sorted(summary.errors.items(), key=lambda kv: -kv[1])[:3]
        parts.append("errors: " + "; ".join(f"{n}x {e}" for e, n in top))
    ok = summary.failed <= max_failed and summary.longest_gap_s <= max_gap_s
    judge = Judged.passed if ok else Judged.failed
    return judge(
        ", ".join(parts),
        measured=summary,
        limit=(max_failed, max_gap_s),
        samples=summary.probes,
        where=timeline.target_url,
    )


def judge_watch(timeline: Timeline, config: WatchConfig) -> Judged:
    """A deploy watch (or a rollout's soak) judged with the environment's `[watch]` limits:
    inconclusive when the timeline cannot show it (`evidence_problem`), else `judge_timeline`."""
    problem = evidence_problem(timeline)
    if problem is not None:
        return Judged.inconclusive(problem, where=timeline.target_url)
    return judge_timeline(timeline, max_failed=config.max_failed, max_gap_s=config.max_gap)


def watch_verdict(judged: Judged) -> Verdict:
    """What a judged watch decides: no downtime GO, downtime ROLLBACK, no evidence HOLD."""
    if judged.judgement is Judgement.INCONCLUSIVE:
        return Verdict.HOLD
    return Verdict.GO if judged.ok else Verdict.ROLLBACK


def evidence_problem(timeline: Timeline) -> str | None:
    """Why this timeline cannot show whether the deploy was free of downtime, or None."""
    if timeline.stopped_by == "not_started":
        return f"the deploy command did not start: {timeline.command!r}"
    if timeline.stopped_by == "interrupted":
        return "the watch was interrupted before the deploy finished"
    if timeline.stopped_by == "max_duration":
        return "the deploy command ran past [watch] max_duration and was stopped"
    if timeline.command_exit != 0:
        return f"the deploy command exited {timeline.command_exit}: {timeline.command!r}"
    # a command faster than the probing interval is fine: an outage it caused shows after it
    if not any(p.phase == "after" for p in timeline.probes):
        return "no probe answered or failed after the deploy command ended: nothing to judge"
    return None


def _span(seconds: float) -> str:
    """An age for a person: `45 s`, `12 min`, `30.5 h`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# a recorded time this far ahead of the clock is not believed (a skewed or forged clock)
_FUTURE_TOLERANCE_S = 300.0


def recorded_end(timeline: Timeline) -> datetime | None:
    """When the watch ended by its own clock: its start plus how long it ran (its start when it
    recorded no duration); None when the start is not a time with a zone."""
    try:
        started = datetime.fromisoformat(timeline.started_at)
    except (TypeError, ValueError):
        return None
    if started.tzinfo is None:
        return None
    return started + timedelta(seconds=max(timeline.duration_s, 0.0))


@dataclass(frozen=True)
class Rejected:
    """A timeline of the environment that is not this deploy's evidence, and why."""

    path: Path
    reason: str
    ended: datetime | None


@dataclass(frozen=True)
class TimelineSearch:
    """The newest timeline that is this deploy's evidence (path and content), or None, with
    the timelines of the environment that were turned down."""

    environment: str
    reports_dir: Path
    path: Path | None = None
    timeline: Timeline | None = None
    rejected: tuple[Rejected, ...] = ()

    def why_none(self, max_age_s: float) -> str:
        """Why no timeline fits, in words: none at all, or the newest rejected one and why."""
        if not self.rejected:
            return (
                f"no timeline.json of env={self.environment} under {self.reports_dir}"
                f" (younger than [watch] max_age {_span(max_age_s)})"
            )
        newest = max(
            self.rejected,
            key=lambda r: (r.ended or datetime.min.replace(tzinfo=UTC), str(r.path)),
        )
        more = len(self.rejected) - 1
        others = f" ({more} other rejected)" if more else ""
        return (
            f"the newest timeline of env={self.environment}, {newest.path}, {newest.reason}{others}"
        )


def find_timeline(
    environment: str,
    reports_dir: Path,
    *,
    target: str,
    max_age_s: float,
    now: datetime | None = None,
    redactor: Redactor | None = None,
) -> TimelineSearch:
    """The newest timeline.json under `reports_dir` that is evidence for this deploy: written
    for `environment`, watching `target` (same scheme, host, port and path), and ended (by the
    time recorded in it, never the file's: the gate copies timelines into its runs) at most
    `max_age_s` ago.
    Timelines of other environments and unreadable files are passed over in silence; the
    environment's timelines that do not fit are returned as rejected, with the reason.

    Timelines are written masked: with a `redactor`, a target whose URL holds a secret matches
    its masked form too."""
    search = TimelineSearch(environment, reports_dir)
    if not reports_dir.is_dir():
        return search
    current = datetime.now(UTC) if now is None else now
    found: list[tuple[datetime, str, Path, Timeline]] = []
    rejected: list[Rejected] = []
    for path in reports_dir.rglob(TIMELINE_FILE):
        try:
            timeline = read_timeline(path)
        except (OSError, TimelineUnreadable):
            continue
        if timeline.environment != environment:
            continue
        targets = (target, redactor.redact(target)) if redactor else (target,)
        reason, ended = _unfit(timeline, targets, max_age_s, current)
        if reason is None and ended is not None:
            found.append((ended, str(path), path, timeline))
        else:
            rejected.append(Rejected(path, reason or "has no recorded time", ended))
    if not found:
        return replace(search, rejected=tuple(rejected))
    _, _, path, timeline = max(found, key=lambda f: (f[0], f[1]))
    return replace(search, path=path, timeline=timeline, rejected=tuple(rejected))


def _unfit(
    timeline: Timeline, targets: Sequence[str], max_age_s: float, now: datetime
) -> tuple[str | None, datetime | None]:
    ended = recorded_end(timeline)
    if ended is None:
        return f"has no readable start time ({timeline.started_at!r})", None
    if not any(same_target(timeline.target_url, t) for t in targets):
        return f"watched another target, {timeline.target_url}, not {targets[-1]}", ended
    age_s = (now - ended).total_seconds()
    if age_s < -_FUTURE_TOLERANCE_S:
        return f"ended in the future ({ended.isoformat()}): the clocks disagree", ended
    if age_s > max_age_s:
        return (
            f"ended {_span(age_s)} ago ({ended.isoformat()}), older than"
            f" [watch] max_age {_span(max_age_s)}",
            ended,
        )
    return None, ended


def deploy_duration(timeline: Timeline) -> float | None:
    """How long the deploy command ran, from its start to its end (the probing before and after
    it is the watch's, not the deploy's); None when the timeline does not have both."""
    started, ended = timeline.command_started_t, timeline.command_ended_t
    if started is None or ended is None:
        return None
    return max(ended - started, 0.0)


def clock(seconds: float) -> str:
    """A duration as a deploy log says it: `6m 12s`, `5m`, `1h 0m 5s`, `42s`, `1.3s`."""
    if seconds < 10 and round(seconds, 1) != round(seconds):
        return f"{seconds:.1f}s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s" if secs else f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def judge_duration(timeline: Timeline, max_duration_s: float) -> Judged:
    """The deploy finished within `max_duration_s` (the environment's `[watch] max_duration`):
    a command stopped at its limit did not finish, a failure whatever the figure; a timeline
    that cannot tell (no command end, a command that did not start, an interrupted watch) is
    inconclusive. `measured` is the duration in seconds."""
    duration = deploy_duration(timeline)
    limit = clock(max_duration_s)
    where = timeline.target_url
    if timeline.stopped_by == "not_started":
        return Judged.inconclusive(
            f"the deploy command did not start: {timeline.command!r}", where=where
        )
    if duration is None:
        return Judged.inconclusive(
            "the timeline has no end time of the deploy command: how long it took is unknown",
            where=where,
        )
    took = clock(duration)
    if timeline.stopped_by == "max_duration":
        ran_under = timeline.max_duration_s
        if ran_under is None or ran_under == max_duration_s:
            why = f"did not finish within max_duration {limit}: the command was stopped"
            why += f" after {took}"
        else:  # the watch ran with its own --max-duration
            why = (
                f"did not finish: the command was stopped at the watch's --max-duration"
                f" {clock(ran_under)}, after {took} ([watch] max_duration {limit})"
            )
        return Judged.failed(
            f"the deploy {why}",
            measured=duration,
            limit=max_duration_s,
            where=where,
        )
    if timeline.stopped_by == "interrupted" and duration <= max_duration_s:
        return Judged.inconclusive(
            f"the watch was interrupted {took} into the deploy, before it finished", where=where
        )
    if duration > max_duration_s:
        return Judged.failed(
            f"the deploy took {took}, over max_duration {limit}",
            measured=duration,
            limit=max_duration_s,
            where=where,
        )
    return Judged.passed(
        f"the deploy took {took}, within max_duration {limit}",
        measured=duration,
        limit=max_duration_s,
        where=where,
    )
