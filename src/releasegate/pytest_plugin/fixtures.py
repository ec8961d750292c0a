"""Fixtures every gate suite can use: the environment, the target, an HTTP client, `measure`
and `expect` (a threshold check in one call)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol, Unpack

import pytest

from releasegate.config import Environment
from releasegate.evidence.results import Measurement
from releasegate.ops.reachability import note_answer
from releasegate.outcome import Comparison, Judged, Limit, Where, compare, enforce
from releasegate.probe import ProbeClient
from releasegate.pytest_plugin._keys import GATE_RUN, MEASUREMENTS, GateRun

Measure = Callable[..., None]


@pytest.fixture(scope="session")
def gate_run(pytestconfig: pytest.Config) -> GateRun:
    """The gate run: environment, target URL, run id and evidence folder."""
    run = pytestconfig.stash.get(GATE_RUN, None)
    if run is None:
        pytest.fail("releasegate: no environment chosen; pass --env NAME", pytrace=False)
    return run


@pytest.fixture(scope="session")
def env(gate_run: GateRun) -> Environment:
    """The loaded, validated environment (`--env`)."""
    return gate_run.env


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """The target's base URL: `--base-url`, the environment's, or the started reference service.

    Named like pytest-base-url's fixture so Playwright's `page.goto("/")` follows it.
    """
    run = pytestconfig.stash.get(GATE_RUN, None)
    return run.base_url if run is not None else pytestconfig.getoption("base_url")


@pytest.fixture(scope="session")
def release_version(gate_run: GateRun) -> str | None:
    """The version this deploy is expected to run (`--release-version`), if given."""
    return gate_run.release_version


@pytest.fixture(scope="session")
def http(gate_run: GateRun) -> Iterator[ProbeClient]:
    """An httpx client bound to the target: base URL, headers, timeout, bounded retries."""
    with probe_client(gate_run) as client:
        yield client


def probe_client(gate_run: GateRun) -> ProbeClient:
    """A client for the run's target, as the `http` fixture gives (for use outside a test)."""
    target = gate_run.env.target
    return ProbeClient(
        base_url=gate_run.base_url,
        headers=target.headers,
        timeout_s=target.timeout,
        retries=target.retries,
        verify_tls=target.verify_tls,
        redactor=gate_run.redactor,
        on_first_answer=lambda: note_answer(gate_run.run_dir, gate_run.base_url),
    )


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Measure:
    """Record a measurement of this check into results.json (and the HTML report).

    measure("latency", 12.5, unit="ms", threshold=500, comparison="<=")
    """
    recorded = request.node.stash.setdefault(MEASUREMENTS, [])

    def record(name: str, value: float | str | None, **fields: Any) -> None:
        # validated now, so a typo fails the check that made it, not the evidence writer
        recorded.append(Measurement(name=name, value=value, **fields).model_dump())

    return record


class Expect(Protocol):
    """A threshold check in one call: the measurement is recorded, then judged and enforced
    (the fixture's frames are hidden from the failure's traceback). A Protocol with its
    implementation, so mypy checks every call in the suites.

    expect("query latency", 12.5, "<=", 500, unit="ms", context=f"env={env.name}")
    expect.judged(judged)  # a judgement made by a core judge (slo, load, browser...)
    """

    _measure: Measure

    def __call__(
        self,
        name: str,
        value: float | str | None,
        comparison: Comparison,
        limit: Limit,
        *,
        context: str = "",
        message: str | None = None,
        **shown: Unpack[Where],
    ) -> None:
        __tracebackhide__ = True
        unit, samples = shown.get("unit", ""), shown.get("samples")
        self._measure(
            name, value, unit=unit, threshold=limit, comparison=comparison, samples=samples
        )
        judged = compare(name, value, comparison, limit, **shown)
        if message is not None and not judged.ok:
            judged = replace(judged, message=message)
        enforce(judged, context=context)

    def judged(self, judged: Judged, *, context: str = "") -> None:
        __tracebackhide__ = True
        enforce(judged, context=context)


class _Expect(Expect):
    def __init__(self, measure: Measure) -> None:
        self._measure = measure


@pytest.fixture
def expect(measure: Measure) -> Expect:
    """Record a measurement against its limit and fail the check when it is broken."""
    return _Expect(measure)
