"""Transport errors: a sample of a target that never answered is unreachable, not errors."""

from __future__ import annotations

import httpx
import pytest

from releasegate.checks.transport import unreachable_sample
from releasegate.slo.synthetic import Sample, SamplePlan, take_samples
from releasegate.slo.synthetic import Target as SampleTarget

# ---------------------------------------------------------------------------------------------
# unreachable_sample: the error-ratio sample of a target that never answered


def sample(status: int | None, error: str | None = None) -> Sample:
    return Sample(t=0.1, endpoint="GET /api/tickets", status=status, latency_ms=1.0, error=error)


REFUSED = "ConnectError: [Errno 111] Connection refused"


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        pytest.param(
            [sample(None, REFUSED)] * 3,
            "http://target.test: none of 3 requests got an answer, every one a transport"
            f" error (3x {REFUSED}); is the target up and the URL right?",
            id="all-refused",
        ),
        pytest.param(
            [sample(None, REFUSED), sample(None, REFUSED), sample(None, "ConnectTimeout: t")],
            "http://target.test: none of 3 requests got an answer, every one a transport"
            f" error (2x {REFUSED}); is the target up and the URL right?",
            id="refused-and-connect-timeout",
        ),
        pytest.param(
            [sample(None, "ReadError: [Errno 104] Connection reset by peer")],
            "http://target.test: none of 1 requests got an answer, every one a transport"
            " error (1x ReadError: [Errno 104] Connection reset by peer); is the target up and"
            " the URL right?",
            id="reset",
        ),
        pytest.param(
            [sample(200), sample(None, REFUSED), sample(None, REFUSED)],
            None,
            id="went-away-mid-sample-is-a-finding",
        ),
        pytest.param([sample(503), sample(503)], None, id="all-5xx-answered"),
        pytest.param(
            [sample(None, REFUSED), sample(None, "ReadTimeout: timed out")],
            None,
            id="a-read-timeout-connected",
        ),
        pytest.param([sample(None, "RuntimeError: odd")], None, id="not-an-httpx-error"),
        pytest.param([sample(None, None)], None, id="no-error-text"),
        pytest.param([], None, id="empty"),
    ],
)
def test_unreachable_sample(samples: list[Sample], expected: str | None) -> None:
    """Unreachable only when no request got an HTTP answer and every one failed to connect."""
    assert unreachable_sample(samples, "http://target.test") == expected


def test_a_sample_of_a_refusing_target_is_unreachable_not_errors() -> None:
    """Through take_samples and a transport that refuses every connection: unreachable."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    plan = SamplePlan(
        targets=[SampleTarget("GET", "/api/tickets")],
        requests=5,
        concurrency=1,
        rate_per_s=1000,
        duration_s=5,
    )
    taken = take_samples("http://target.test", plan, transport=httpx.MockTransport(refuse))

    assert unreachable_sample(taken.samples, "http://target.test") == (
        "http://target.test: none of 5 requests got an answer, every one a transport error"
        f" (5x {REFUSED}); is the target up and the URL right?"
    )
