"""Post-deploy: the key pages are warmed, and caching works as the environment says."""

import httpx
import pytest

from releasegate.checks.cache import judge_cache, observe_cache
from releasegate.config import Environment
from releasegate.errors import EvidenceMissing, TargetUnreachable
from releasegate.ops.reachability import note_answer
from releasegate.probe import ProbeClient
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_page_is_warm_and_cached(
    cache_path: str | None,
    http: ProbeClient,
    gate_run: GateRun,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {id} is served from the cache once visited.

    The first GET warms the page; the second carries the cache header (`[cache] expect =
    "header"`) or is faster by `faster_by` (`expect = "faster"`), and its Cache-Control has no
    no-store, no-cache, or private (`[cache] shared`, default true)."""
    if cache_path is None:
        pytest.skip(f"no [cache] paths for env={env.name}")
    config = env.model.cache
    try:
        seen = observe_cache(http.client, cache_path, config.header, env.target.timeout)
    except TargetUnreachable as exc:
        raise TargetUnreachable(http.redactor.redact(f"{exc} (env={env.name})")) from None
    except httpx.HTTPError as exc:  # connected, but no answer in time
        raise EvidenceMissing(
            http.redactor.redact(f"GET {http.url(cache_path)}: {exc} (env={env.name})")
        ) from None
    note_answer(gate_run.run_dir, gate_run.base_url)  # it answered
    measure("first hit", seen.first_ms, unit="ms")
    measure("second hit", seen.second_ms, unit="ms")
    if config.expect == "header":
        measure(config.header, seen.header_value, threshold=config.pattern)
    verdict = judge_cache(
        seen,
        expect=config.expect,
        header=config.header,
        pattern=config.pattern,
        faster_by=config.faster_by,
        shared=config.shared,
    )

    expect.judged(verdict, context=f"env={env.name}")
