"""Post-deploy judgements that need more than one probe: the release version on every instance,
and caching of the key pages (warmed by the first hit, served faster or marked by the second)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import httpx


@dataclass(frozen=True)
class InstanceVersion:
    """What one instance says it runs (None with `error` when it did not say)."""

    url: str
    version: str | None
    error: str | None = None


def read_version(
    client: httpx.Client, instance: str, path: str, key: str, timeout_s: float
) -> InstanceVersion:
    """GET `instance + path` and read `key` from its JSON; never raises for the target's faults."""
    url = instance.rstrip("/") + path
    try:
        response = client.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return InstanceVersion(instance, None, f"{type(exc).__name__}: {exc}"[:200])
    if response.status_code != 200:
        return InstanceVersion(instance, None, f"GET {url} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return InstanceVersion(instance, None, f"GET {url} did not answer JSON")
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return InstanceVersion(instance, None, f"GET {url}: no {key!r} in the answer")
    return InstanceVersion(instance, str(value))


def disagreeing(expected: str, answers: Sequence[InstanceVersion]) -> list[InstanceVersion]:
    """The instances that do not run `expected` (or did not say what they run)."""
    return [a for a in answers if a.version != expected]


def describe(answers: Sequence[InstanceVersion]) -> str:
    return "; ".join(f"{a.url}: {a.version or a.error}" for a in answers)


@dataclass(frozen=True)
class CacheObservation:
    """Two GETs of the same path, one after the other: timings and the second's header."""

    path: str
    first_status: int
    first_ms: float
    second_status: int
    second_ms: float
    header_value: str | None


def observe_cache(
    client: httpx.Client, path: str, header: str, timeout_s: float
) -> CacheObservation:
    """Warm `path` with one GET (the client has the target as its base URL), then time a second.
    httpx.HTTPError propagates: the caller decides that no answer is missing evidence."""
    first = client.get(path, timeout=timeout_s)
    first_ms = first.elapsed.total_seconds() * 1000
    second = client.get(path, timeout=timeout_s)
    second_ms = second.elapsed.total_seconds() * 1000
    return CacheObservation(
        path,
        first.status_code,
        round(first_ms, 2),
        second.status_code,
        round(second_ms, 2),
        second.headers.get(header),  # httpx.Headers: any case
    )


@dataclass(frozen=True)
class CacheVerdict:
    ok: bool
    message: str


def judge_cache(
    seen: CacheObservation,
    *,
    expect: Literal["header", "faster"],
    header: str,
    pattern: str,
    faster_by: float,
) -> CacheVerdict:
    """`header`: the second response's header matches `pattern` (Cache-Control max-age, a CDN's
    X-Cache: HIT). `faster`: the second hit took at most (1 - faster_by) of the first."""
    timings = f"first {seen.first_ms:.1f} ms, second {seen.second_ms:.1f} ms"
    if seen.first_status >= 400 or seen.second_status >= 400:
        return CacheVerdict(
            False,
            f"GET {seen.path} answered {seen.first_status} then {seen.second_status}"
            f" ({timings}): nothing to cache",
        )
    if expect == "header":
        if seen.header_value is None:
            return CacheVerdict(False, f"GET {seen.path}: no {header} header ({timings})")
        if not re.search(pattern, seen.header_value, re.IGNORECASE):
            return CacheVerdict(
                False,
                f"GET {seen.path}: {header}: {seen.header_value!r} does not match {pattern!r}"
                f" ({timings})",
            )
        return CacheVerdict(True, f"GET {seen.path}: {header}: {seen.header_value} ({timings})")
    limit = seen.first_ms * (1 - faster_by)
    if seen.second_ms > limit:
        return CacheVerdict(
            False,
            f"GET {seen.path}: the second hit was not {faster_by:.0%} faster ({timings};"
            f" at most {limit:.1f} ms expected)",
        )
    return CacheVerdict(True, f"GET {seen.path}: warmed ({timings})")
