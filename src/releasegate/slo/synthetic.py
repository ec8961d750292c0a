"""Synthetic samples: the SLO gate's own requests to the target's key endpoints, every one kept
(when, which endpoint, status, latency, error), bounded in count, rate and time.

A few threads, each with its own httpx client and keep-alive connection (like real clients);
each request takes the next free slot of the rate limit, so the rate holds however many threads
there are.
The run stops at the request count or the time limit, whichever comes first.
"""

from __future__ import annotations

import hashlib
import json
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
    stopped_by: str = "count"  # or "duration"
    timeout_s: float | None = None  # per request; None in files written before it was kept
    target_key: str = ""  # `target_key(target_url)`, kept before the URL is masked

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


def take_samples(
    base_url: str,
    plan: SamplePlan,
    *,
    environment: str = "",
    transport: httpx.BaseTransport | None = None,
) -> SampleSet:
    """Send the plan's requests (round robin over its endpoints) and keep every sample."""
    started = time.monotonic()
    pace = _Pace(plan.requests, plan.rate_per_s, started + plan.duration_s)
    samples: list[Sample] = []
    lock = threading.Lock()
    started_perf = time.perf_counter()

    crashed: list[BaseException] = []

    def work() -> None:
        try:
            send()
        except BaseException as exc:  # re-raised below: a bug must not read as a slow target
            crashed.append(exc)

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
                    samples.append(sample)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(plan.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # each request is bounded by its timeout, so this ends; the margin covers the last one
        thread.join(timeout=plan.duration_s + plan.timeout_s + 5)
    if crashed:
        raise crashed[0]
    samples.sort(key=lambda s: s.t)
    return SampleSet(
        environment=environment,
        target_url=base_url,
        samples=samples,
        elapsed_s=round(time.monotonic() - started, 3),
        stopped_by="count" if pace.issued >= plan.requests else "duration",
        timeout_s=plan.timeout_s,
    )
