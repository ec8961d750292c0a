"""The synthetic sampler: bounded by count, rate and time, every sample kept, failures kept as
failures (and a bug in a thread is raised, not counted as a slow target)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from releasegate.errors import EvidenceMissing, SamplesUnreadable
from releasegate.net import normalise_url
from releasegate.outcome import Judgement
from releasegate.probe import TargetUnreachable
from releasegate.redact import MASK, Redactor
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import Origin, percentile
from releasegate.slo.stopping import Decider
from releasegate.slo.synthetic import (
    SamplePlan,
    Target,
    read_samples,
    take_samples,
)


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/boom":
        raise httpx.ConnectError("connection refused", request=request)
    return httpx.Response(503 if request.url.path == "/down" else 200, text="ok")


def plan(*paths: str, **kw: object) -> SamplePlan:
    numbers: dict[str, object] = {
        "requests": 10,
        "concurrency": 2,
        "rate_per_s": 1000.0,
        "duration_s": 5.0,
    }
    numbers.update(kw)
    return SamplePlan([Target.parse(p) for p in paths], **numbers)  # type: ignore[arg-type]


def test_the_count_bounds_the_run_and_endpoints_take_turns() -> None:
    samples = take_samples(
        "http://t.test", plan("/a", "POST /b"), transport=httpx.MockTransport(answer)
    )

    assert len(samples.samples) == 10
    assert samples.stopped_by == "count"
    assert sorted(samples.endpoints()) == ["GET /a", "POST /b"]
    assert sum(s.endpoint == "POST /b" for s in samples.samples) == 5
    assert all(s.status == 200 and s.latency_ms >= 0 for s in samples.samples)


def test_the_rate_and_the_duration_bound_the_run() -> None:
    """10 per second for 0.5 s: about 5 requests of the 100 asked for."""
    began = time.monotonic()

    samples = take_samples(
        "http://t.test",
        plan("/a", requests=100, rate_per_s=10.0, duration_s=0.5),
        transport=httpx.MockTransport(answer),
    )

    assert 4 <= len(samples.samples) <= 6
    assert samples.stopped_by == "duration"
    assert time.monotonic() - began < 2


def test_server_errors_and_no_answer_are_kept_as_such() -> None:
    samples = take_samples(
        "http://t.test", plan("/down", "/boom", requests=4), transport=httpx.MockTransport(answer)
    )

    down = [s for s in samples.samples if s.endpoint == "GET /down"]
    boom = [s for s in samples.samples if s.endpoint == "GET /boom"]
    assert {s.status for s in down} == {503}
    assert all(s.server_error for s in down + boom)
    assert {s.status for s in boom} == {None}
    assert "ConnectError" in (boom[0].error or "")
    assert samples.latencies("GET /boom") == []  # no answer, no latency


def test_a_bug_in_a_thread_is_raised() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise KeyError("a bug, not the target")

    with pytest.raises(KeyError):
        take_samples("http://t.test", plan("/a"), transport=httpx.MockTransport(broken))


def test_samples_round_trip_through_a_file_with_secrets_masked(tmp_path: Path) -> None:
    samples = take_samples(
        "http://t.test/secret-path-123",
        plan("/a", requests=3),
        environment="prod",
        transport=httpx.MockTransport(answer),
    )
    path = tmp_path / "baseline.json"

    samples.write(path, Redactor.of(["secret-path-123"]))

    back = read_samples(path)
    assert back.environment == "prod"
    assert back.target_url == f"http://t.test/{MASK}"
    assert back.latencies() == samples.latencies()


def test_a_file_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text('{"schema": "something/else"}')

    with pytest.raises(SamplesUnreadable, match=r"not a releasegate\.samples/1 document"):
        read_samples(path)


def timing_out_every(nth: int) -> httpx.MockTransport:
    """Answers 200 at once, but every `nth` request times out waiting for the answer."""
    count = iter(range(10_000))

    def answer(request: httpx.Request) -> httpx.Response:
        if next(count) % nth == nth - 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, text="ok")

    return httpx.MockTransport(answer)


def test_timeouts_are_samples_censored_at_the_timeout() -> None:
    """A fifth of the requests time out: they are in the latencies as at least the timeout,
    and a p95 objective no longer passes on the answered ones."""
    samples = take_samples(
        "http://t.test",
        plan("/a", requests=200, concurrency=1, timeout_s=2.0),
        environment="prod",
        transport=timing_out_every(5),
    )

    latencies = samples.censored_latencies()
    sli = percentile(latencies, 0.95, 0.95, Origin("synthetic", "env=prod"))
    verdict = judge(sli, Objective(Indicator.LATENCY, 500.0, 0.95))

    assert latencies.censored == 40
    assert len(latencies.observed) == 160
    assert latencies.censor_at == 2000.0
    assert verdict.judgement is Judgement.FAIL
    assert "40 without an answer counted as >=2000 ms" in verdict.message
    assert "200 samples" in verdict.message


def test_a_target_that_refuses_every_request_is_unreachable() -> None:
    samples = take_samples(
        "http://t.test", plan("/boom", requests=6), transport=httpx.MockTransport(answer)
    )

    with pytest.raises(TargetUnreachable) as caught:
        samples.raise_if_unreachable()

    assert isinstance(caught.value, EvidenceMissing)
    assert "http://t.test: none of 6 requests got an answer" in str(caught.value)
    assert "6x ConnectError: connection refused" in str(caught.value)


@pytest.mark.parametrize(
    "transport",
    [
        pytest.param(httpx.MockTransport(answer), id="some answered, some refused"),
        pytest.param(timing_out_every(1), id="every request timed out: slow, not unreachable"),
    ],
)
def test_answers_or_timeouts_are_measurements_not_an_unreachable_target(
    transport: httpx.MockTransport,
) -> None:
    samples = take_samples("http://t.test", plan("/a", "/boom", requests=6), transport=transport)

    samples.raise_if_unreachable()

    assert samples.censored_latencies().censored >= 3


def test_refused_requests_among_answers_are_censored_latencies_and_failures() -> None:
    samples = take_samples(
        "http://t.test",
        plan("/a", "/boom", requests=10, timeout_s=3.0),
        transport=httpx.MockTransport(answer),
    )

    latencies = samples.censored_latencies()

    assert (len(latencies.observed), latencies.censored) == (5, 5)
    assert latencies.values()[-5:] == [3000.0] * 5
    assert sum(s.server_error for s in samples.samples) == 5


def test_the_timeout_and_target_are_kept_and_old_files_still_read(tmp_path: Path) -> None:
    samples = take_samples(
        "http://t.test/",
        plan("/a", requests=2, timeout_s=4.0),
        transport=httpx.MockTransport(answer),
    )
    path = tmp_path / "samples.json"
    samples.write(path)
    back = read_samples(path)
    old = tmp_path / "old.json"
    document = json.loads(path.read_text())
    del document["timeout_s"], document["target_key"]
    old.write_text(json.dumps(document))

    before = read_samples(old)

    assert back.timeout_s == 4.0
    assert back.same_target("HTTP://T.test:80")
    assert before.timeout_s is None
    assert before.same_target("http://t.test")
    assert before.censored_latencies().censored == 0


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/", True),
        ("HTTP://Example.COM", "http://example.com:80", True),
        ("https://example.com/app/", "https://example.com:443/app", True),
        ("http://user:pw@example.com", "http://example.com", True),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8001", False),
        ("http://example.com", "https://example.com", False),
        ("http://example.com/app", "http://example.com/other", False),
    ],
)
def test_targets_are_compared_normalised(a: str, b: str, same: bool) -> None:
    assert (normalise_url(a) == normalise_url(b)) is same


def slow_answer(request: httpx.Request) -> httpx.Response:
    time.sleep(0.05)
    return httpx.Response(200, text="ok")


def test_a_decider_stops_the_run_once_every_objective_is_decided() -> None:
    """Every answer slower than a p95 objective of 0.1 µs: failed at the first look allowed
    (20 samples), long before the budget of 1,000."""
    decider = Decider([Objective(Indicator.LATENCY, 0.0001, 0.95)], 0.95)
    samples = take_samples(
        "http://t.test",
        plan("/a", requests=1000, min_requests=20, look_every=10),
        transport=httpx.MockTransport(answer),
        decider=decider,
    )

    assert samples.stopped_by == "decided"
    assert len(samples.samples) == 20  # judged at the count the verdict came at
    assert len(samples.after_decision) <= 2  # in flight then: kept, not judged
    assert samples.looks >= 2
    assert decider.judgements() == [Judgement.FAIL]


def test_without_a_verdict_the_budget_bounds_the_run() -> None:
    """A 50 % error ratio against a 50 % limit: never decided; the count ends it."""

    def half(request: httpx.Request) -> httpx.Response:
        half.calls += 1  # type: ignore[attr-defined]
        return httpx.Response(500 if half.calls % 2 else 200)  # type: ignore[attr-defined]

    half.calls = 0  # type: ignore[attr-defined]
    decider = Decider([Objective(Indicator.ERROR_RATIO, 0.5)], 0.95)
    samples = take_samples(
        "http://t.test",
        plan("/a", requests=60, concurrency=1),
        transport=httpx.MockTransport(half),
        decider=decider,
    )

    assert samples.stopped_by == "count"
    assert len(samples.samples) == 60
    assert decider.judgements() == [Judgement.INCONCLUSIVE]


def test_slow_answers_bring_more_threads_up_to_the_maximum() -> None:
    """50 ms answers, 200 requests in 2 s: 100 a second need about 6 threads (Little's law),
    more than the 2 it starts with; never more than max_concurrency."""
    grown = take_samples(
        "http://t.test",
        plan("/a", requests=200, duration_s=2.0, max_concurrency=32),
        transport=httpx.MockTransport(slow_answer),
    )
    capped = take_samples(
        "http://t.test",
        plan("/a", requests=200, duration_s=2.0, max_concurrency=3),
        transport=httpx.MockTransport(slow_answer),
    )
    fixed = take_samples(
        "http://t.test",
        plan("/a", requests=200, duration_s=2.0),
        transport=httpx.MockTransport(slow_answer),
    )

    assert 5 <= grown.threads <= 32
    assert len(grown.samples) > len(fixed.samples)
    assert capped.threads == 3
    assert fixed.threads == 2
