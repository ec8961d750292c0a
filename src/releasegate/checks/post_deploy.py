"""Post-deploy judgements that need more than one probe: the release version on every instance,
and caching of the key pages (warmed by the first hit, served faster or marked by the second).

A target that never answered is not a target found wrong: when every request of a check failed
in the transport (refused, reset, DNS, connect timeout) and none got an HTTP answer, the check
raises `TargetUnreachable` (missing evidence) instead of failing. Once the target has answered
at least once, a later connection error is a finding: it went away while being measured.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import httpx

from releasegate.errors import TargetUnreachable
from releasegate.slo.synthetic import Sample

# Transport errors that mean "nothing answered": a timeout after connecting (ReadTimeout,
# WriteTimeout) is not one, the target took the request and was slow.
_NO_CONNECTION: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,  # connection reset by peer
    httpx.WriteError,
    httpx.CloseError,
)
# RemoteProtocolError is left out: something accepted the connection and spoke (badly)


def is_unreachable(exc: BaseException) -> bool:
    """Whether a request's exception says the target could not be reached (no HTTP answer)."""
    return isinstance(exc, _NO_CONNECTION)


def _unreachable_name(error: str) -> bool:
    """The same question for a recorded `"ConnectError: ..."` (a sample keeps its error's
    class name and text)."""
    found = getattr(httpx, error.split(":", 1)[0].strip(), None)
    return isinstance(found, type) and issubclass(found, _NO_CONNECTION)


def describe_error(exc: BaseException) -> str:
    """`ConnectError: [Errno 111] Connection refused`, cut to 200 characters."""
    return f"{type(exc).__name__}: {str(exc) or 'no answer'}"[:200]


def unreachable_sample(samples: Sequence[Sample], base_url: str) -> str | None:
    """Why a sample shows the target unreachable (no request got an HTTP answer and every one
    failed in the transport), with the URL, the attempts and the commonest error; else None.
    An empty sample is not this question's to answer."""
    if not samples or any(s.status is not None for s in samples):
        return None
    if not all(s.error and _unreachable_name(s.error) for s in samples):
        return None
    counted: dict[str, int] = {}
    for s in samples:
        key = s.error or ""
        counted[key] = counted.get(key, 0) + 1
    error, n = max(counted.items(), key=lambda kv: kv[1])
    return (
        f"{base_url}: none of {len(samples)} requests got an answer, every one a transport"
        f" error ({n}x {error}); is the target up and the URL right?"
    )


@dataclass(frozen=True)
class InstanceVersion:
    """What one instance says it runs (None with `error` when it did not say)."""

    url: str
    version: str | None
    error: str | None = None
    unreachable: bool = False  # no HTTP answer at all: a transport error


def read_version(
    client: httpx.Client, instance: str, path: str, key: str, timeout_s: float
) -> InstanceVersion:
    """GET `instance + path` and read `key` from its JSON; never raises for the target's faults."""
    url = instance.rstrip("/") + path
    try:
        response = client.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return InstanceVersion(instance, None, describe_error(exc), unreachable=is_unreachable(exc))
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


def unreachable_instances(answers: Sequence[InstanceVersion]) -> str | None:
    """The instances that could not be reached at all, as a message; None when all answered
    (an instance that answered anything, even a 500, was reached)."""
    lost = [a for a in answers if a.unreachable]
    if not lost:
        return None
    listed = "; ".join(f"{a.url}: {a.error}" for a in lost)
    return (
        f"{len(lost)} of {len(answers)} instances could not be reached (1 attempt each):"
        f" {listed}; is the instance up and the URL right?"
    )


def disagreeing(expected: str, answers: Sequence[InstanceVersion]) -> list[InstanceVersion]:
    """The instances that do not run `expected` (or did not say what they run)."""
    return [a for a in answers if a.version != expected]


def describe(answers: Sequence[InstanceVersion]) -> str:
    return "; ".join(f"{a.url}: {a.version or a.error}" for a in answers)


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
    shared: bool = True,
) -> CacheVerdict:
    """`header`: the second response's header matches `pattern` (Cache-Control max-age, a CDN's
    X-Cache: HIT). `faster`: the second hit took at most (1 - faster_by) of the first. In both,
    a Cache-Control that forbids caching (`caching_forbidden`) fails whatever else matched."""
    timings = f"first {seen.first_ms:.1f} ms, second {seen.second_ms:.1f} ms"
    if seen.second_status is None:
        return CacheVerdict(
            False,
            f"GET {seen.path} answered {seen.first_status}, then no answer: {seen.second_error}"
            f" ({timings}): the target went away while being measured",
        )
    if seen.first_status >= 400 or seen.second_status >= 400:
        return CacheVerdict(
            False,
            f"GET {seen.path} answered {seen.first_status} then {seen.second_status}"
            f" ({timings}): nothing to cache",
        )
    if seen.cache_control is not None:
        forbidden = caching_forbidden(parse_cache_control(seen.cache_control), shared=shared)
        if forbidden is not None:
            whose = " for a shared cache" if forbidden == "private" else ""
            return CacheVerdict(
                False,
                f"GET {seen.path}: Cache-Control: {seen.cache_control!r} has {forbidden}:"
                f" not cacheable{whose} ({timings})",
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
