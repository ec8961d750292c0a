"""The probe client: retries transport errors only, times answers, masks secrets."""

from __future__ import annotations

import httpx
import pytest

from releasegate.errors import EvidenceMissing, RequestNotSent
from releasegate.probe import ProbeClient, TargetUnreachable
from releasegate.redact import MASK, Redactor
from tests.loopback_server import LoopbackServer, QuietHandler


def client(handler: object, **kwargs: object) -> ProbeClient:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return ProbeClient("http://target.test", transport=transport, backoff_s=0.0, **kwargs)  # type: ignore[arg-type]


def test_transport_errors_are_retried_then_reported_as_missing_evidence() -> None:
    """A connection that never succeeds is tried 1 + retries times, then EvidenceMissing."""
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(
        TargetUnreachable, match=r"GET http://target.test/x: connection refused .* 3 attempts"
    ) as caught:
        client(refuse, retries=2).get("/x")

    assert len(calls) == 3
    assert isinstance(caught.value, EvidenceMissing)
    assert not isinstance(caught.value, AssertionError)


def test_a_blip_is_retried_and_the_answer_is_kept() -> None:
    """One reset, then an answer: the probe returns the answer and counts two attempts."""
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadError("reset", request=request)
        return httpx.Response(200, text="ok")

    probe = client(flaky).get("/x")

    assert (probe.status, probe.attempts) == (200, 2)


def test_an_error_status_is_evidence_and_never_retried() -> None:
    """A 500 is an answer: returned at once."""
    calls = []

    def broken(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    probe = client(broken).get("/x")

    assert (probe.status, len(calls)) == (500, 1)


def test_a_read_timeout_is_a_measurement_not_missing_evidence() -> None:
    """Connected but no answer in time: a timed-out probe, not retried."""
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    probe = client(slow, timeout_s=0.5).get("/x")

    assert probe.timed_out
    assert probe.timeout_s == 0.5
    assert len(calls) == 1


def test_secrets_are_masked_in_the_unreachable_message() -> None:
    """A secret in the URL does not reach the error message."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    probe = client(refuse, retries=0, redactor=Redactor.of(["sekrit-token"]))

    with pytest.raises(TargetUnreachable) as caught:
        probe.get("/x?key=sekrit-token")

    assert "sekrit-token" not in str(caught.value)
    assert MASK in str(caught.value)


def test_headers_are_sent_with_every_request() -> None:
    """The environment's headers go with each probe."""
    seen = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(204)

    client(record, headers={"Authorization": "Bearer t"}).get("/x")

    assert seen == ["Bearer t"]


def test_a_request_that_cannot_be_sent_is_the_gates_problem_not_an_unreachable_target() -> None:
    """A bearer token left empty ("Bearer ", trailing space) is a header value HTTP forbids:
    refused on this side, never retried, and not evidence that the target is down (which
    could say ROLLBACK)."""
    server = LoopbackServer(QuietHandler)
    try:
        with (
            ProbeClient(server.base, retries=2, backoff_s=0.0) as client,
            pytest.raises(RequestNotSent, match=r"GET .*/x: not sent") as caught,
        ):
            client.get("/x", headers={"Authorization": "Bearer "})
    finally:
        server.close()

    assert not isinstance(caught.value, TargetUnreachable)
