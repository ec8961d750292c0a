"""Synthetic samples: the SLO gate's own requests to the target's key endpoints, every one kept
(when, which endpoint, status, latency, error), bounded in count, rate and time.

A few threads, each with its own httpx client and keep-alive connection (like real clients);
each request takes the next free slot of the rate limit, so the rate holds however many threads
there are. When the answers are too slow for the budget to fit in the time allowed, more
threads join (Little's law: the rate still needed times the mean latency), up to
`max_concurrency`.

The run stops at the request count or the time limit, whichever comes first; with a `Decider`
(`releasegate.slo.stopping`), also as soon as it has decided every objective, looked at after
every `look_every` answers and not before `min_requests`.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from releasegate.documents import read_document
from releasegate.errors import SamplesUnreadable, TargetUnreachable
from releasegate.evidence.results import write_atomically
from releasegate.net import normalise_url
from releasegate.probe import Sample
from releasegate.redact import Redactor
from releasegate.slo.statistics import Latencies
from releasegate.slo.stopping import Decider

SCHEMA = "releasegate.samples/1"
BASELINE_FILE = "baseline.json"
SAMPLES_FILE = "samples.json"


@dataclass(frozen=True)
class Target:
    """One endpoint to sample: `GET /api/tickets`."""

    method: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @classmethod
    def parse(cls, text: str) -> Target:
        method, _, path = text.strip().rpartition(" ")
        return cls((method or "GET").upper(), path)


@dataclass(frozen=True)
class SamplePlan:
    targets: Sequence[Target]
    requests: int
    concurrency: int
    rate_per_s: float
    duration_s: float
    timeout_s: float = 5.0
    headers: Mapping[str, str] = field(default_factory=dict)
    # threads may grow to this many to fit the budget in the time (None: `concurrency` fixed)
    max_concurrency: int | None = None
    # a Decider stops no earlier than this, and looks after every `look_every` answers
    min_requests: int = 0
    look_every: int = 10


def target_key(url: str) -> str:
    """A digest of the normalised target URL: it tells targets apart in a file whose URL is
    masked (a secret in the URL), and says nothing of the secret."""
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()[:24]


@dataclass
class SampleSet:
    """The samples of one run, and where they came from."""

    environment: str
    target_url: str
    samples: list[Sample]
    taken_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    elapsed_s: float = 0.0
    stopped_by: str = "count"  # or "duration", or "decided" (every objective decided)
    timeout_s: float | None = None  # per request; None in files written before it was kept
    target_key: str = ""  # `target_key(target_url)`, kept before the URL is masked
    threads: int = 0  # the most threads that sent requests at once (0: not recorded)
    looks: int = 0  # how often the stopping rule looked (0: a fixed count, no looks)
    # answered after the verdict stopped the run (they were in flight): kept, never judged, so
    # the verdict is read at the count the rule stopped at
    after_decision: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.target_key:
            self.target_key = target_key(self.target_url)

    def taken_at_time(self) -> datetime | None:
        """When the samples were taken, as recorded (timezone-aware); None if not recorded."""
        try:
            taken = datetime.fromisoformat(self.taken_at)
        except ValueError:
            return None
        return taken if taken.tzinfo else taken.replace(tzinfo=UTC)

    def same_target(self, url: str) -> bool:
        """Whether these samples were taken of the target `url` names (scheme, host, port and
        path compared, not their spelling)."""
        return self.target_key == target_key(url)

    def latencies(self, endpoint: str | None = None) -> list[float]:
        """Latencies of answered requests (all endpoints, or one)."""
        return [
            s.latency_ms
            for s in self.samples
            if s.status is not None and (endpoint is None or s.endpoint == endpoint)
        ]

    def censored_latencies(self, endpoint: str | None = None) -> Latencies:
        """Every request's latency: the answered ones as measured, the ones without an answer
        (timed out, refused, reset) right-censored at the timeout: each counts as at least the
        timeout, so a target that stops answering cannot pass on the requests it did answer."""
        chosen = [s for s in self.samples if endpoint is None or s.endpoint == endpoint]
        failed = [s for s in chosen if s.status is None]
        if self.timeout_s is not None:
            censor_at = self.timeout_s * 1000
        else:  # a file from before the timeout was kept: the longest failure stands in for it
            censor_at = max((s.latency_ms for s in failed), default=0.0)
        return Latencies(
            tuple(s.latency_ms for s in chosen if s.status is not None), len(failed), censor_at
        )

    def raise_if_unreachable(self) -> None:
        """`TargetUnreachable` when no request got any answer and every one failed in
        transport: the gate measured nothing (whether that means ROLLBACK is the decision's to
        say, with its evidence that the target answered before)."""
        if not self.samples or not all(s.transport_error for s in self.samples):
            return
        kinds: dict[str, int] = {}
        for s in self.samples:
            kinds[s.error or "?"] = kinds.get(s.error or "?", 0) + 1
        common, times = max(kinds.items(), key=lambda kv: kv[1])
        others = f" and {len(kinds) - 1} other errors" if len(kinds) > 1 else ""
        raise TargetUnreachable(
            f"{self.target_url}: none of {len(self.samples)} requests got an answer;"
            f" {times}x {common}{others} (env={self.environment})"
        )

    def endpoints(self) -> list[str]:
        return list(dict.fromkeys(s.endpoint for s in self.samples))

    def to_json(self, redactor: Redactor | None = None) -> str:
        document = {"schema": SCHEMA, **asdict(self)}
        text = json.dumps(document, indent=1)
        return redactor.redact(text) if redactor else text

    def write(self, path: Path, redactor: Redactor | None = None) -> None:
        write_atomically(path, self.to_json(redactor))


def read_samples(path: Path) -> SampleSet:
    raw = read_document(path, SCHEMA, SamplesUnreadable)
    try:
        return SampleSet(
            environment=str(raw["environment"]),
            target_url=str(raw["target_url"]),
            samples=[Sample(**s) for s in raw["samples"]],
            taken_at=str(raw.get("taken_at", "")),
            elapsed_s=float(raw.get("elapsed_s", 0.0)),
            stopped_by=str(raw.get("stopped_by", "count")),
            timeout_s=None if raw.get("timeout_s") is None else float(raw["timeout_s"]),
            target_key=str(raw.get("target_key", "")),
            threads=int(raw.get("threads", 0)),
            looks=int(raw.get("looks", 0)),
            after_decision=[Sample(**s) for s in raw.get("after_decision", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SamplesUnreadable(f"{path}: unexpected content: {exc}") from None


# A sleep costs tens of microseconds itself: shorter waits are not worth one (the rate then
# runs up to this much early, never more requests in all).
_SLEEP_MIN_S = 0.0005


class _Pace:
    """Hands out request slots: at most `rate` per second, at most `count` in all, none after
    the deadline."""

    def __init__(self, count: int, rate: float, deadline: float) -> None:
        self._lock = threading.Lock()
        self._left = count
        self._gap = 1.0 / rate
        self._next = time.monotonic()
        self._deadline = deadline
        self.issued = 0
        self.stopped = False

    def stop(self) -> None:
        """No slot after this one (the requests in flight still finish)."""
        with self._lock:
            self._left = 0
            self.stopped = True

    def take(self) -> int | None:
        """The index of the next request, after waiting for its slot; None when done."""
        with self._lock:
            if self._left <= 0:
                return None
            slot = max(self._next, time.monotonic())
            if slot >= self._deadline:
                return None
            self._next = slot + self._gap
            self._left -= 1
            index = self.issued
            self.issued += 1
        delay = slot - time.monotonic()
        if delay > _SLEEP_MIN_S:
            time.sleep(delay)
        return index


# a thread is added only when the rate still needed is this much above what the threads give
_GROWTH_MARGIN = 1.25


def take_samples(
    base_url: str,
    plan: SamplePlan,
    *,
    environment: str = "",
    transport: httpx.BaseTransport | None = None,
    decider: Decider | None = None,
) -> SampleSet:
    """Send the plan's requests (round robin over its endpoints) and keep every sample; with a
    `decider`, stop once it has decided."""
    started = time.monotonic()
    deadline = started + plan.duration_s
    pace = _Pace(plan.requests, plan.rate_per_s, deadline)
    samples: list[Sample] = []
    unread: list[Sample] = []  # answered since the decider last looked
    late: list[Sample] = []  # answered after the decider stopped the run
    lock = threading.Lock()
    started_perf = time.perf_counter()
    threads: list[threading.Thread] = []
    looks = 0
    crashed: list[BaseException] = []

    def work() -> None:
        try:
            send()
        except BaseException as exc:  # re-raised below: a bug must not read as a slow target
            crashed.append(exc)

    def start_threads(count: int) -> None:
        for _ in range(count):
            thread = threading.Thread(target=work, daemon=True)
            threads.append(thread)
            thread.start()

    def look() -> None:
        """After a batch (under the lock): stop when decided, or add threads if the budget
        would not fit in the time left."""
        nonlocal looks
        if decider is not None:
            decider.add(unread)
            looks += 1
        unread.clear()
        if decider is not None and len(samples) >= plan.min_requests and decider.decided():
            pace.stop()
            return
        if plan.max_concurrency is None or len(threads) >= plan.max_concurrency:
            return
        now = time.monotonic()
        left_s, left_requests = deadline - now, plan.requests - pace.issued
        if left_s <= 0 or left_requests <= 0:
            return
        recent = samples[-plan.look_every :]
        latency_s = sum(s.latency_ms for s in recent) / len(recent) / 1000
        needed_rate = min(plan.rate_per_s, left_requests / left_s)
        wanted = math.ceil(needed_rate * latency_s * _GROWTH_MARGIN)
        if wanted > len(threads):
            start_threads(min(wanted, plan.max_concurrency) - len(threads))

    def send() -> None:
        # a client (and its keep-alive connection) per thread: no connection is ever shared
        with httpx.Client(
            base_url=base_url,
            headers=dict(plan.headers),
            timeout=plan.timeout_s,
            transport=transport,
        ) as client:
            while (index := pace.take()) is not None:
                target = plan.targets[index % len(plan.targets)]
                began = time.perf_counter()
                status: int | None = None
                error: str | None = None
                try:
                    response = client.request(target.method, target.path)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                latency = (time.perf_counter() - began) * 1000
                sample = Sample(
                    round(began - started_perf, 4), target.label, status, round(latency, 3), error
                )
                with lock:
                    if pace.stopped:  # in flight when the verdict came: kept, not judged
                        late.append(sample)
                        continue
                    samples.append(sample)
                    unread.append(sample)
                    if len(unread) >= plan.look_every:
                        look()

    with lock:
        start_threads(plan.concurrency)
    joined = 0
    while True:
        with lock:
            running = threads[joined:]
        if not running:
            break
        for thread in running:
            # each request is bounded by its timeout, so this ends; the margin covers the last
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + plan.timeout_s + 5)
        joined += len(running)
    if crashed:
        raise crashed[0]
    if decider is not None and unread:
        decider.add(unread)
    samples.sort(key=lambda s: s.t)
    late.sort(key=lambda s: s.t)
    if pace.stopped:
        stopped_by = "decided"
    else:
        stopped_by = "count" if pace.issued >= plan.requests else "duration"
    return SampleSet(
        environment=environment,
        target_url=base_url,
        samples=samples,
        elapsed_s=round(time.monotonic() - started, 3),
        stopped_by=stopped_by,
        timeout_s=plan.timeout_s,
        threads=len(threads),
        looks=looks,
        after_decision=late,
    )
