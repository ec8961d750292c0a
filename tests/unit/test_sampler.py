"""The synthetic sampler: bounded by count, rate and time, every sample kept, failures kept as
failures (and a bug in a thread is raised, not counted as a slow target)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from releasegate.redact import MASK, Redactor
from releasegate.sampler import SamplePlan, SamplesUnreadable, Target, read_samples, take_samples


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
