"""The release version every instance reports: read, compared, described."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from releasegate.checks.release_version import (
    InstanceVersion,
    VersionSource,
    describe,
    disagreeing,
    read_version,
    unreachable_instances,
    version_in,
)

Handler = Callable[[httpx.Request], httpx.Response]


# ---------------------------------------------------------------------------------------------
# disagreeing / describe

A = InstanceVersion("http://a.test", "1.4.2")
B = InstanceVersion("http://b.test", "1.4.1")
C = InstanceVersion("http://c.test", None, "GET http://c.test/version answered 503")
D = InstanceVersion("http://d.test", "1.4.2")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param([A, D], [], id="all-agree"),
        pytest.param([A, B, C, D], [B, C], id="one-old-one-silent"),
        pytest.param([C], [C], id="no-answer-disagrees"),
        pytest.param([], [], id="no-instances"),
    ],
)
def test_disagreeing(answers: list[InstanceVersion], expected: list[InstanceVersion]) -> None:
    """Instances running another version, or not saying, disagree; in the order given."""
    assert disagreeing("1.4.2", answers) == expected


def test_disagreeing_compares_versions_exactly() -> None:
    """A `v` prefix or a suffix is another version: no guessing at equivalence."""
    answers = [
        InstanceVersion("http://a.test", "v1.4.2"),
        InstanceVersion("http://b.test", "1.4.2 "),
    ]

    assert disagreeing("1.4.2", answers) == answers


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param(
            [A, B, C],
            "http://a.test: 1.4.2; http://b.test: 1.4.1;"
            " http://c.test: GET http://c.test/version answered 503",
            id="versions-and-an-error",
        ),
        pytest.param([A], "http://a.test: 1.4.2", id="one"),
        pytest.param([], "", id="none"),
    ],
)
def test_describe(answers: list[InstanceVersion], expected: str) -> None:
    """Each instance with its version, or its error when it did not say."""
    assert describe(answers) == expected


# ---------------------------------------------------------------------------------------------
# read_version over httpx.MockTransport

INSTANCE = "http://i1.test/"  # the trailing slash is not doubled
URL = "http://i1.test/version"


def answer(status: int, **kwargs: object) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, **kwargs)  # type: ignore[arg-type]

    return handle


def read(handler: Handler) -> tuple[InstanceVersion, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return handler(request)

    with httpx.Client(transport=httpx.MockTransport(recording)) as client:
        version = read_version(client, INSTANCE, VersionSource("/version"), timeout_s=2.5)
    return version, requests


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        pytest.param(
            answer(200, json={"version": "1.4.2", "commit": "abc123"}),
            InstanceVersion(INSTANCE, "1.4.2"),
            id="string",
        ),
        pytest.param(answer(200, json={"version": 42}), InstanceVersion(INSTANCE, "42"), id="int"),
        pytest.param(
            answer(200, json={"version": 1.5}), InstanceVersion(INSTANCE, "1.5"), id="float"
        ),
        pytest.param(
            answer(500, json={"version": "1.4.2"}),
            InstanceVersion(INSTANCE, None, f"GET {URL} answered 500"),
            id="500-even-with-a-version",
        ),
        pytest.param(
            answer(404, text="not found"),
            InstanceVersion(INSTANCE, None, f"GET {URL} answered 404"),
            id="404",
        ),
        pytest.param(
            answer(302, headers={"Location": "/login"}),
            InstanceVersion(INSTANCE, None, f"GET {URL} answered 302"),
            id="redirect-not-followed",
        ),
        pytest.param(
            answer(200, text="<html>1.4.2</html>"),
            InstanceVersion(INSTANCE, None, f"GET {URL} did not answer JSON"),
            id="not-json",
        ),
        pytest.param(
            answer(200, json={"build": "1.4.2"}),
            InstanceVersion(INSTANCE, None, f"GET {URL}: no 'version' in the answer"),
            id="missing-key",
        ),
        pytest.param(
            answer(200, json={"version": True}),
            InstanceVersion(INSTANCE, None, f"GET {URL}: no 'version' in the answer"),
            id="bool",
        ),
        pytest.param(
            answer(200, json={"version": None}),
            InstanceVersion(INSTANCE, None, f"GET {URL}: no 'version' in the answer"),
            id="null",
        ),
        pytest.param(
            answer(200, json={"version": {"semver": "1.4.2"}}),
            InstanceVersion(INSTANCE, None, f"GET {URL}: no 'version' in the answer"),
            id="object",
        ),
        pytest.param(
            answer(200, json=["1.4.2"]),
            InstanceVersion(INSTANCE, None, f"GET {URL}: no 'version' in the answer"),
            id="json-list",
        ),
        pytest.param(
            answer(200, json="1.4.2"),
            InstanceVersion(INSTANCE, None, f"GET {URL}: no 'version' in the answer"),
            id="json-string",
        ),
    ],
)
def test_read_version(handler: Handler, expected: InstanceVersion) -> None:
    """The version is read from a 200 JSON object's key; anything else is an error, not raised."""
    version, requests = read(handler)

    assert version == expected
    assert [str(r.url) for r in requests] == [URL]


@pytest.mark.parametrize(
    ("error", "text", "expected", "unreachable"),
    [
        pytest.param(
            httpx.ConnectError,
            "connection refused",
            "ConnectError: connection refused",
            True,
            id="connect-refused-unreachable",
        ),
        pytest.param(
            httpx.ConnectTimeout,
            "timed out",
            "ConnectTimeout: timed out",
            True,
            id="connect-timeout",
        ),
        pytest.param(
            httpx.ReadError, "connection reset", "ReadError: connection reset", True, id="reset"
        ),
        pytest.param(
            httpx.ReadTimeout, "timed out", "ReadTimeout: timed out", False, id="read-timeout"
        ),
        pytest.param(
            httpx.RemoteProtocolError,
            "Server disconnected",
            "RemoteProtocolError: Server disconnected",
            False,
            id="protocol",
        ),
    ],
)
def test_read_version_of_a_transport_error(
    error: type[httpx.RequestError], text: str, expected: str, unreachable: bool
) -> None:
    """A request that got no answer is the exception's name and text, never raised; marked
    unreachable when nothing was reached (refused, connect timeout, reset)."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise error(text, request=request)

    version, requests = read(fail)

    assert version == InstanceVersion(INSTANCE, None, expected, unreachable=unreachable)
    assert len(requests) == 1


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param([A, B, C], None, id="all-answered-even-a-503"),
        pytest.param([], None, id="no-instances"),
        pytest.param(
            [A, InstanceVersion("http://e.test", None, "ConnectError: refused", unreachable=True)],
            "1 of 2 instances could not be reached (1 attempt each): http://e.test:"
            " ConnectError: refused; is the instance up and the URL right?",
            id="one-of-two-unreachable",
        ),
    ],
)
def test_unreachable_instances(answers: list[InstanceVersion], expected: str | None) -> None:
    """An instance that could not be reached is named with its error; a wrong answer is not."""
    assert unreachable_instances(answers) == expected


def test_read_version_cuts_a_long_error_to_200_characters() -> None:
    """An error's text is cut to 200 characters, so one instance cannot flood the report."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("x" * 500, request=request)

    version, _ = read(refuse)

    assert version.error == "ConnectError: " + "x" * (200 - len("ConnectError: "))


def test_read_version_passes_its_timeout() -> None:
    """The request carries the given timeout, for every phase."""
    _, requests = read(answer(200, json={"version": "1.4.2"}))

    assert requests[0].extensions["timeout"] == {
        "connect": 2.5,
        "read": 2.5,
        "write": 2.5,
        "pool": 2.5,
    }


# ---------------------------------------------------------------------------------------------
# where an application states its version: a JSONPath, a header, a meta tag


def response(status: int = 200, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", URL), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "source", "expected"),
    [
        pytest.param(
            response(json={"versions": {"app": "2.1.0", "db": "15"}}),
            VersionSource("/version", "$.versions.app"),
            "2.1.0",
            id="jsonpath",
        ),
        pytest.param(
            response(json=[{"name": "api", "version": "3"}]),
            VersionSource("/version", "$[?@.name == 'api'].version"),
            "3",
            id="jsonpath-filter",
        ),
        pytest.param(
            response(json={"versions": {}}),
            VersionSource("/version", "$.versions.app"),
            None,
            id="jsonpath-no-match",
        ),
        pytest.param(
            response(headers={"X-App-Version": "4.0.1"}, json={"version": "old"}),
            VersionSource("/version", header="X-App-Version"),
            "4.0.1",
            id="header-first",
        ),
        pytest.param(
            response(json={"version": "1.0"}),
            VersionSource("/version", header="X-App-Version"),
            "1.0",
            id="header-missing-then-json",
        ),
        pytest.param(
            response(
                headers={"Content-Type": "text/html; charset=utf-8"},
                text='<html><head><meta name="App-Version" content=" 5.2 "></head></html>',
            ),
            VersionSource("", meta="app-version"),
            "5.2",
            id="meta-on-the-home-page",
        ),
        pytest.param(
            response(headers={"Content-Type": "text/html"}, text="<html><head></head></html>"),
            VersionSource("", meta="app-version"),
            None,
            id="meta-missing",
        ),
    ],
)
def test_version_in_reads_each_way(
    given: httpx.Response, source: VersionSource, expected: str | None
) -> None:
    assert version_in(given, source) == expected


def test_a_source_says_where_it_looked() -> None:
    assert VersionSource("", header="X-V", meta="v").describe() == 'header X-V or <meta name="v">'
    assert VersionSource("", header="X-V").url_path == "/"
    assert not VersionSource("").enabled
    assert VersionSource().describe() == "'version'"
