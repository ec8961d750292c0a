"""Caching of a warmed page: two GETs observed, Cache-Control read, the cache judged."""

from __future__ import annotations

import time

import httpx
import pytest

from releasegate.checks.cache import (
    CacheObservation,
    judge_cache,
    observe_cache,
    parse_cache_control,
)
from releasegate.errors import TargetUnreachable


def seen(
    *,
    first_status: int = 200,
    first_ms: float = 200.0,
    second_status: int = 200,
    second_ms: float = 100.0,
    header_value: str | None = None,
    cache_control: str | None = None,
) -> CacheObservation:
    return CacheObservation(
        "/static/app.js",
        first_status,
        first_ms,
        second_status,
        second_ms,
        header_value,
        cache_control,
    )


TIMINGS = "first 200.0 ms, second 100.0 ms"


# ---------------------------------------------------------------------------------------------
# judge_cache: header mode


@pytest.mark.parametrize(
    ("observation", "header", "pattern", "expected"),
    [
        pytest.param(
            seen(header_value=None),
            "X-Cache",
            "HIT",
            (False, f"GET /static/app.js: no X-Cache header ({TIMINGS})"),
            id="header-missing",
        ),
        pytest.param(
            seen(header_value="MISS"),
            "X-Cache",
            "HIT",
            (False, f"GET /static/app.js: X-Cache: 'MISS' does not match 'HIT' ({TIMINGS})"),
            id="header-not-matching",
        ),
        pytest.param(
            seen(header_value="HIT"),
            "X-Cache",
            "HIT",
            (True, f"GET /static/app.js: X-Cache: HIT ({TIMINGS})"),
            id="header-matching",
        ),
        pytest.param(
            seen(header_value="Hit from cloudfront"),
            "X-Cache",
            "^hit",
            (True, f"GET /static/app.js: X-Cache: Hit from cloudfront ({TIMINGS})"),
            id="match-ignores-case",
        ),
        pytest.param(
            seen(header_value="public, max-age=3600"),
            "Cache-Control",
            "max-age=[1-9]",
            (True, f"GET /static/app.js: Cache-Control: public, max-age=3600 ({TIMINGS})"),
            id="cache-control-max-age",
        ),
        pytest.param(
            seen(header_value="no-cache, max-age=0"),
            "Cache-Control",
            "max-age=[1-9]",
            (
                False,
                "GET /static/app.js: Cache-Control: 'no-cache, max-age=0' does not match"
                f" 'max-age=[1-9]' ({TIMINGS})",
            ),
            id="cache-control-max-age-zero",
        ),
        pytest.param(
            seen(header_value="HIT", second_ms=900.0),
            "X-Cache",
            "HIT",
            (True, "GET /static/app.js: X-Cache: HIT (first 200.0 ms, second 900.0 ms)"),
            id="timings-do-not-matter-in-header-mode",
        ),
    ],
)
def test_judge_cache_header_mode(
    observation: CacheObservation, header: str, pattern: str, expected: tuple[bool, str]
) -> None:
    """In header mode the second response's header must match the pattern (any case)."""
    verdict = judge_cache(
        observation, expect="header", header=header, pattern=pattern, faster_by=0.5
    )

    assert (verdict.ok, verdict.message) == expected


@pytest.mark.parametrize("expect", ["header", "faster"])
@pytest.mark.parametrize(
    ("first_status", "second_status"),
    [
        pytest.param(404, 404, id="404-404"),
        pytest.param(200, 503, id="200-503"),
        pytest.param(500, 200, id="500-200"),
        pytest.param(400, 200, id="400-first-4xx"),
    ],
)
def test_judge_cache_an_error_status_is_nothing_to_cache(
    expect: str, first_status: int, second_status: int
) -> None:
    """A 4xx or 5xx on either GET fails the check, whatever the header or timings say."""
    observation = seen(first_status=first_status, second_status=second_status, header_value="HIT")

    verdict = judge_cache(
        observation,
        expect=expect,  # type: ignore[arg-type]
        header="X-Cache",
        pattern="HIT",
        faster_by=0.5,
    )

    assert (verdict.ok, verdict.message) == (
        False,
        f"GET /static/app.js answered {first_status} then {second_status} ({TIMINGS}):"
        " nothing to cache",
    )


def test_judge_cache_a_redirect_is_not_an_error_status() -> None:
    """A 3xx is an answer that can be cached: judged on its header like a 200."""
    observation = seen(first_status=301, second_status=304, header_value="HIT")

    verdict = judge_cache(
        observation, expect="header", header="X-Cache", pattern="HIT", faster_by=0
    )

    assert verdict.ok, verdict.message


# ---------------------------------------------------------------------------------------------
# judge_cache: faster mode


@pytest.mark.parametrize(
    ("first_ms", "second_ms", "faster_by", "ok"),
    [
        pytest.param(200.0, 100.0, 0.5, True, id="exactly-half-at-50pct"),
        pytest.param(200.0, 100.01, 0.5, False, id="just-over-half-at-50pct"),
        pytest.param(200.0, 20.0, 0.5, True, id="much-faster"),
        pytest.param(80.0, 60.0, 0.25, True, id="exactly-three-quarters-at-25pct"),
        pytest.param(80.0, 60.5, 0.25, False, id="over-three-quarters-at-25pct"),
        pytest.param(50.0, 50.0, 0.0, True, id="as-fast-at-0pct"),
        pytest.param(50.0, 50.5, 0.0, False, id="slower-at-0pct"),
        pytest.param(200.0, 250.0, 0.5, False, id="slower"),
    ],
)
def test_judge_cache_faster_mode_boundary(
    first_ms: float, second_ms: float, faster_by: float, ok: bool
) -> None:
    """The second hit passes when it took at most (1 - faster_by) x the first, limit included."""
    observation = seen(first_ms=first_ms, second_ms=second_ms)

    verdict = judge_cache(
        observation, expect="faster", header="X-Cache", pattern="HIT", faster_by=faster_by
    )

    assert verdict.ok is ok


@pytest.mark.parametrize(
    ("observation", "expected"),
    [
        pytest.param(
            seen(second_ms=150.0, header_value="HIT"),
            (
                False,
                "GET /static/app.js: the second hit was not 50% faster"
                " (first 200.0 ms, second 150.0 ms; at most 100.0 ms expected)",
            ),
            id="not-faster-and-the-header-does-not-help",
        ),
        pytest.param(
            seen(second_ms=80.0),
            (True, "GET /static/app.js: warmed (first 200.0 ms, second 80.0 ms)"),
            id="faster-without-any-header",
        ),
    ],
)
def test_judge_cache_faster_mode_message(
    observation: CacheObservation, expected: tuple[bool, str]
) -> None:
    """Faster mode reports both timings and the limit, and ignores the header."""
    verdict = judge_cache(
        observation, expect="faster", header="X-Cache", pattern="HIT", faster_by=0.5
    )

    assert (verdict.ok, verdict.message) == expected


# ---------------------------------------------------------------------------------------------
# observe_cache over httpx.MockTransport


def streamed(status: int, headers: dict[str, str]) -> httpx.Response:
    """An answer whose body is read through the client, as over a network: httpx sets
    `elapsed` when that stream closes, never for a Response built with its content already
    loaded (`text=`, `json=`), which observe_cache could not time."""
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(b"body"))


def test_observe_cache_times_two_gets_and_reads_the_second_header() -> None:
    """Two GETs of the path on the base URL; the header (any case) comes from the second answer,
    and each answer's own time is recorded."""
    requests: list[httpx.Request] = []

    def cache(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            time.sleep(0.1)  # the cold first hit
            return streamed(200, {"X-Cache": "MISS"})
        return streamed(203, {"X-Cache": "HIT"})

    with httpx.Client(
        base_url="http://target.test", transport=httpx.MockTransport(cache)
    ) as client:
        observation = observe_cache(client, "/static/app.js", "x-cache", timeout_s=3.0)

    assert [(r.method, str(r.url)) for r in requests] == [
        ("GET", "http://target.test/static/app.js"),
        ("GET", "http://target.test/static/app.js"),
    ]
    assert requests[0].extensions["timeout"]["read"] == 3.0
    assert (observation.path, observation.first_status, observation.second_status) == (
        "/static/app.js",
        200,
        203,
    )
    assert observation.header_value == "HIT"
    assert observation.first_ms >= 100.0
    assert observation.second_ms < observation.first_ms
    assert observation.first_ms == round(observation.first_ms, 2)


def test_observe_cache_without_the_header_records_none() -> None:
    """A second answer without the header: header_value is None (and header mode will fail)."""

    def plain(request: httpx.Request) -> httpx.Response:
        return streamed(200, {"Cache-Control": "max-age=60"})

    with httpx.Client(
        base_url="http://target.test", transport=httpx.MockTransport(plain)
    ) as client:
        observation = observe_cache(client, "/", "X-Cache", timeout_s=1.0)

    assert (observation.first_status, observation.second_status) == (200, 200)
    assert observation.header_value is None


def test_observe_cache_of_an_unreachable_target_is_target_unreachable() -> None:
    """The first GET refused: TargetUnreachable (missing evidence) naming URL, attempts, error."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        httpx.Client(
            base_url="http://target.test", transport=httpx.MockTransport(refuse)
        ) as client,
        pytest.raises(TargetUnreachable) as caught,
    ):
        observe_cache(client, "/", "X-Cache", timeout_s=1.0)

    assert str(caught.value) == (
        "GET http://target.test/: ConnectError: connection refused (1 attempt);"
        " is the target up and the URL right?"
    )


def test_observe_cache_lets_a_read_timeout_propagate() -> None:
    """Connected but no answer in time is not unreachable: the caller calls it missing evidence."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        httpx.Client(base_url="http://target.test", transport=httpx.MockTransport(slow)) as client,
        pytest.raises(httpx.ReadTimeout, match="timed out"),
    ):
        observe_cache(client, "/", "X-Cache", timeout_s=1.0)


def test_observe_cache_records_a_target_that_went_away_after_answering() -> None:
    """The first GET answered, the second was refused: recorded, and the judge fails it."""
    calls: list[int] = []

    def once(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) > 1:
            raise httpx.ConnectError("connection refused", request=request)
        return streamed(200, {"Cache-Control": "max-age=60"})

    with httpx.Client(base_url="http://target.test", transport=httpx.MockTransport(once)) as client:
        observation = observe_cache(client, "/", "Cache-Control", timeout_s=1.0)
    verdict = judge_cache(
        observation, expect="header", header="Cache-Control", pattern="max-age", faster_by=0.2
    )

    assert (observation.second_status, observation.second_error) == (
        None,
        "ConnectError: connection refused",
    )
    assert not verdict.ok
    assert "answered 200, then no answer: ConnectError: connection refused" in verdict.message
    assert "went away" in verdict.message


def test_observe_cache_reads_cache_control_beside_the_configured_header() -> None:
    """With `header = "X-Cache"`, the second answer's Cache-Control is still recorded."""

    def cdn(request: httpx.Request) -> httpx.Response:
        return streamed(200, {"X-Cache": "HIT", "Cache-Control": "no-store"})

    with httpx.Client(base_url="http://target.test", transport=httpx.MockTransport(cdn)) as client:
        observation = observe_cache(client, "/", "X-Cache", timeout_s=1.0)

    assert (observation.header_value, observation.cache_control) == ("HIT", "no-store")


# ---------------------------------------------------------------------------------------------
# Cache-Control directives


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("max-age=3600", {"max-age": "3600"}, id="one-with-value"),
        pytest.param(
            "max-age=3600, no-store", {"max-age": "3600", "no-store": None}, id="two-directives"
        ),
        pytest.param(
            "Public,MAX-AGE=60", {"public": None, "max-age": "60"}, id="names-any-case-no-space"
        ),
        pytest.param(
            'private="Set-Cookie, X-Id", max-age=5',
            {"private": "Set-Cookie, X-Id", "max-age": "5"},
            id="quoted-value-with-a-comma",
        ),
        pytest.param(
            'no-cache="a\\"b", public', {"no-cache": 'a"b', "public": None}, id="escaped-quote"
        ),
        pytest.param(
            "max-age = 10 ,  public", {"max-age": "10", "public": None}, id="spaces-around"
        ),
        pytest.param("max-age=1, max-age=0", {"max-age": "1"}, id="repeated-first-wins"),
        pytest.param(" , ,max-age=1,,", {"max-age": "1"}, id="empty-elements"),
        pytest.param("=5, public", {"public": None}, id="stray-equals-skipped"),
        pytest.param('max-age="60', {"max-age": "60"}, id="unterminated-quote"),
        pytest.param("", {}, id="empty"),
    ],
)
def test_parse_cache_control(value: str, expected: dict[str, str | None]) -> None:
    """Comma-separated directives, names in lower case, values plain or quoted."""
    assert parse_cache_control(value) == expected


HEADER_MODE = {"expect": "header", "header": "Cache-Control", "pattern": "max-age=[1-9]"}


@pytest.mark.parametrize(
    ("cache_control", "shared", "forbidden"),
    [
        pytest.param("max-age=3600, no-store", True, "no-store", id="max-age-with-no-store"),
        pytest.param("no-store, max-age=3600", False, "no-store", id="no-store-first-private-ok"),
        pytest.param("public, max-age=3600, NO-STORE", True, "no-store", id="no-store-any-case"),
        pytest.param("no-cache, max-age=3600", True, "no-cache", id="no-cache"),
        pytest.param(
            'no-cache="Set-Cookie", max-age=3600', True, "no-cache", id="no-cache-with-fields"
        ),
        pytest.param("private, max-age=3600", True, "private", id="private-shared-cache"),
        pytest.param("private, max-age=3600", False, None, id="private-browser-cache"),
        pytest.param("public, max-age=3600", True, None, id="public-max-age"),
        pytest.param("max-age=3600, must-revalidate", True, None, id="must-revalidate-ok"),
        pytest.param(
            'max-age=3600, community="no-store"', True, None, id="no-store-only-in-a-value"
        ),
    ],
)
def test_judge_cache_fails_a_directive_that_forbids_caching(
    cache_control: str, shared: bool, forbidden: str | None
) -> None:
    """no-store always, no-cache always (the page is to be served warm), private for a shared
    cache: the check fails even though `max-age=[1-9]` matches."""
    observation = seen(header_value=cache_control, cache_control=cache_control)

    verdict = judge_cache(observation, **HEADER_MODE, faster_by=0.2, shared=shared)  # type: ignore[arg-type]

    assert verdict.ok is (forbidden is None), verdict.message
    if forbidden is not None:
        assert f"Cache-Control: {cache_control!r} has {forbidden}: not cacheable" in verdict.message


@pytest.mark.parametrize(
    ("expect", "header_value"),
    [
        pytest.param("header", "HIT", id="x-cache-hit"),
        pytest.param("faster", None, id="faster"),
    ],
)
def test_judge_cache_no_store_fails_whatever_the_mode_or_header(
    expect: str, header_value: str | None
) -> None:
    """A CDN's X-Cache: HIT, or a faster second hit, does not outweigh `no-store`."""
    observation = seen(header_value=header_value, cache_control="no-store", second_ms=10.0)

    verdict = judge_cache(
        observation,
        expect=expect,  # type: ignore[arg-type]
        header="X-Cache",
        pattern="HIT",
        faster_by=0.2,
    )

    assert (verdict.ok, verdict.message) == (
        False,
        "GET /static/app.js: Cache-Control: 'no-store' has no-store: not cacheable"
        " (first 200.0 ms, second 10.0 ms)",
    )


def test_judge_cache_private_says_shared_cache() -> None:
    """A private answer fails a shared-cache check with a message that says why."""
    observation = seen(header_value="private, max-age=60", cache_control="private, max-age=60")

    verdict = judge_cache(observation, **HEADER_MODE, faster_by=0.2)  # type: ignore[arg-type]

    assert verdict.message == (
        "GET /static/app.js: Cache-Control: 'private, max-age=60' has private: not cacheable"
        f" for a shared cache ({TIMINGS})"
    )
