"""Caching of the key pages after a deploy: warmed by the first hit, served faster or marked as
cached by the second, and never forbidden from caching by the page's own Cache-Control."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Literal

import httpx

from releasegate.checks.transport import describe_error, is_unreachable
from releasegate.errors import TargetUnreachable
from releasegate.outcome import Figures, Judged


@dataclass(frozen=True)
class CacheObservation:
    """Two GETs of the same path, one after the other: timings, the second's configured header
    and its Cache-Control. `second_status` None: the second GET got no answer (`second_error`)."""

    path: str
    first_status: int
    first_ms: float
    second_status: int | None
    second_ms: float
    header_value: str | None
    cache_control: str | None = None
    second_error: str | None = None


def observe_cache(
    client: httpx.Client, path: str, header: str, timeout_s: float
) -> CacheObservation:
    """Warm `path` with one GET (the client has the target as its base URL), then time a second.

    The first GET unable to reach the target raises `TargetUnreachable`; other errors of it
    (a read timeout) propagate as httpx.HTTPError for the caller to call missing evidence. Once
    the first has answered, a second GET without an answer is recorded (the target went away
    while being measured: a finding)."""
    url = str(client.base_url).rstrip("/") + path
    try:
        first = client.get(path, timeout=timeout_s)
    except httpx.HTTPError as exc:
        if is_unreachable(exc):
            raise TargetUnreachable(
                f"GET {url}: {describe_error(exc)} (1 attempt); is the target up and the URL right?"
            ) from None
        raise
    first_ms = first.elapsed.total_seconds() * 1000
    sent = time.perf_counter()
    try:
        second = client.get(path, timeout=timeout_s)
    except httpx.HTTPError as exc:
        lost_ms = (time.perf_counter() - sent) * 1000
        return CacheObservation(
            path,
            first.status_code,
            round(first_ms, 2),
            None,
            round(lost_ms, 2),
            None,
            None,
            describe_error(exc),
        )
    second_ms = second.elapsed.total_seconds() * 1000
    return CacheObservation(
        path,
        first.status_code,
        round(first_ms, 2),
        second.status_code,
        round(second_ms, 2),
        second.headers.get(header),  # httpx.Headers: any case, repeated lines joined by ", "
        second.headers.get("Cache-Control"),
    )


# --- Cache-Control ----------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*([^\s=,\"]+)\s*")


def parse_cache_control(value: str) -> dict[str, str | None]:
    """The directives of a Cache-Control value, names in lower case: `max-age=3600, no-store`
    gives `{"max-age": "3600", "no-store": None}`. A value may be quoted (`private="Set-Cookie,
    X-Id"`, backslash escapes honoured) and hold commas. A repeated directive keeps its first
    value; what cannot be read up to the next comma is skipped, never raised."""
    directives: dict[str, str | None] = {}
    i, n = 0, len(value)
    while i < n:
        if value[i] in " \t,":
            i += 1
            continue
        token = _TOKEN.match(value, i)
        if token is None:  # stray text (a lone `=` or quote): skip to the next directive
            i = _after_comma(value, i)
            continue
        name, i = token.group(1).lower(), token.end()
        argument: str | None = None
        if i < n and value[i] == "=":
            argument, i = _argument(value, i + 1)
        directives.setdefault(name, argument)
        i = _after_comma(value, i)
    return directives


def _argument(value: str, i: int) -> tuple[str, int]:
    """A directive's value from `i`: a quoted string (unquoted) or a token; and where it ends."""
    while i < len(value) and value[i] in " \t":
        i += 1
    if i < len(value) and value[i] == '"':
        chars: list[str] = []
        i += 1
        while i < len(value) and value[i] != '"':
            if value[i] == "\\" and i + 1 < len(value):
                i += 1
            chars.append(value[i])
            i += 1
        return "".join(chars), i + 1
    end = i
    while end < len(value) and value[end] != ",":
        end += 1
    return value[i:end].strip(), end


def _after_comma(value: str, i: int) -> int:
    comma = value.find(",", i)
    return len(value) if comma < 0 else comma + 1


def caching_forbidden(directives: dict[str, str | None], *, shared: bool) -> str | None:
    """The directive that forbids serving this page warm from a cache, or None: `no-store`
    always, `no-cache` always (the check is about a page served warm, and no-cache makes every
    use wait for the origin), `private` when the check is about a shared cache (CDN, proxy)."""
    if "no-store" in directives:
        return "no-store"
    if "no-cache" in directives:
        return "no-cache"
    if shared and "private" in directives:
        return "private"
    return None


def judge_cache(
    seen: CacheObservation,
    *,
    expect: Literal["header", "faster"],
    header: str,
    pattern: str,
    faster_by: float,
    shared: bool = True,
) -> Judged:
    """`header`: the second response's header matches `pattern` (Cache-Control max-age, a CDN's
    X-Cache: HIT). `faster`: the second hit took at most (1 - faster_by) of the first. In both,
    a Cache-Control that forbids caching (`caching_forbidden`) fails whatever else matched.
    The figures: the header's value against `pattern`, or the second hit's time against the
    most it may take; `where` is the path."""
    timings = f"first {seen.first_ms:.1f} ms, second {seen.second_ms:.1f} ms"
    if seen.second_status is None:
        return Judged.failed(
            f"GET {seen.path} answered {seen.first_status}, then no answer: {seen.second_error}"
            f" ({timings}): the target went away while being measured",
            where=seen.path,
        )
    if seen.first_status >= 400 or seen.second_status >= 400:
        return Judged.failed(
            f"GET {seen.path} answered {seen.first_status} then {seen.second_status}"
            f" ({timings}): nothing to cache",
            measured=seen.second_status,
            where=seen.path,
        )
    if seen.cache_control is not None:
        forbidden = caching_forbidden(parse_cache_control(seen.cache_control), shared=shared)
        if forbidden is not None:
            whose = " for a shared cache" if forbidden == "private" else ""
            return Judged.failed(
                f"GET {seen.path}: Cache-Control: {seen.cache_control!r} has {forbidden}:"
                f" not cacheable{whose} ({timings})",
                measured=seen.cache_control,
                where=seen.path,
            )
    if expect == "header":
        shown = Figures(measured=seen.header_value, limit=pattern, where=seen.path)
        if seen.header_value is None:
            return Judged.failed(f"GET {seen.path}: no {header} header ({timings})", **shown)
        if not re.search(pattern, seen.header_value, re.IGNORECASE):
            return Judged.failed(
                f"GET {seen.path}: {header}: {seen.header_value!r} does not match {pattern!r}"
                f" ({timings})",
                **shown,
            )
        return Judged.passed(f"GET {seen.path}: {header}: {seen.header_value} ({timings})", **shown)
    limit = seen.first_ms * (1 - faster_by)
    timed = Figures(measured=seen.second_ms, limit=limit, where=seen.path)
    if seen.second_ms > limit:
        return Judged.failed(
            f"GET {seen.path}: the second hit was not {faster_by:.0%} faster ({timings};"
            f" at most {limit:.1f} ms expected)",
            **timed,
        )
    return Judged.passed(f"GET {seen.path}: warmed ({timings})", **timed)
