"""Fault texts of the reference service: each name parses, bad ones say what is wrong."""

from __future__ import annotations

import pytest

from releasegate.target.faults import (
    FAULT_FORMS,
    FAULT_NAMES,
    Fault,
    FaultError,
    FaultSet,
    format_duration,
    parse_fault,
    parse_faults,
)

GOOD = [
    pytest.param("latency=300ms", Fault("latency", (0.3, 0.3)), "latency=300ms", id="latency"),
    pytest.param(
        "latency=100ms..400ms",
        Fault("latency", (0.1, 0.4)),
        "latency=100ms..400ms",
        id="latency-range",
    ),
    pytest.param(
        "latency=0ms..1.5s",
        Fault("latency", (0.0, 1.5)),
        "latency=0ms..1.5s",
        id="latency-zero-low",
    ),
    pytest.param("latency=1.5s", Fault("latency", (1.5, 1.5)), "latency=1.5s", id="latency-s"),
    pytest.param("latency=1500ms", Fault("latency", (1.5, 1.5)), "latency=1.5s", id="latency-ms"),
    pytest.param(" LATENCY = 20MS ", Fault("latency", (0.02, 0.02)), "latency=20ms", id="case"),
    pytest.param("error-ratio=0.2", Fault("error-ratio", 0.2), "error-ratio=0.2", id="ratio"),
    pytest.param("error-ratio=1", Fault("error-ratio", 1.0), "error-ratio=1", id="ratio-one"),
    pytest.param("error-ratio=0", Fault("error-ratio", 0.0), "error-ratio=0", id="ratio-zero"),
    pytest.param("health=down", Fault("health", "down"), "health=down", id="health-down"),
    pytest.param(
        "health=degraded:database",
        Fault("health", "degraded:database"),
        "health=degraded:database",
        id="health-degraded",
    ),
    pytest.param(
        "health=Degraded:Email",
        Fault("health", "degraded:email"),
        "health=degraded:email",
        id="health-degraded-case",
    ),
    pytest.param("version=9.9.9", Fault("version", "9.9.9"), "version=9.9.9", id="version"),
    pytest.param(
        "version=2.0.0-rc.1+b7",
        Fault("version", "2.0.0-rc.1+b7"),
        "version=2.0.0-rc.1+b7",
        id="version-semver",
    ),
    pytest.param(
        "drop-header=x-frame-options",
        Fault("drop-header", "X-Frame-Options"),
        "drop-header=X-Frame-Options",
        id="drop-header-any-case",
    ),
    pytest.param("js-error", Fault("js-error"), "js-error", id="js-error"),
    pytest.param("slow-page=3s", Fault("slow-page", 3.0), "slow-page=3s", id="slow-page"),
    pytest.param("db-down", Fault("db-down"), "db-down", id="db-down"),
    pytest.param("refuse-for=5s", Fault("refuse-for", 5.0), "refuse-for=5s", id="refuse-for"),
    pytest.param("contract=BREAK", Fault("contract", "break"), "contract=break", id="contract"),
    pytest.param(
        "refuse-for=250ms", Fault("refuse-for", 0.25), "refuse-for=250ms", id="refuse-for-ms"
    ),
    pytest.param("cache-miss", Fault("cache-miss"), "cache-miss", id="cache-miss"),
    pytest.param("leak=50", Fault("leak", 50.0), "leak=50", id="leak"),
    pytest.param("leak=0.5", Fault("leak", 0.5), "leak=0.5", id="leak-fraction"),
    pytest.param("leak=200MB/s", Fault("leak", 200.0), "leak=200", id="leak-unit-at-most"),
    pytest.param("job-fail=1", Fault("job-fail", 1.0), "job-fail=1", id="job-fail-all"),
    pytest.param("job-fail=0.25", Fault("job-fail", 0.25), "job-fail=0.25", id="job-fail"),
    pytest.param("job-fail=0", Fault("job-fail", 0.0), "job-fail=0", id="job-fail-none"),
    pytest.param("LOG-ERRORS", Fault("log-errors"), "log-errors", id="log-errors"),
    pytest.param("realtime=off", Fault("realtime", "off"), "realtime=off", id="realtime-off"),
    pytest.param("beacon=OFF", Fault("beacon", "off"), "beacon=off", id="beacon-off"),
    pytest.param(
        "expose=/.git/HEAD", Fault("expose", "/.git/HEAD"), "expose=/.git/HEAD", id="expose"
    ),
    pytest.param("cors=reflect", Fault("cors", "reflect"), "cors=reflect", id="cors-reflect"),
    pytest.param("cookie-insecure", Fault("cookie-insecure"), "cookie-insecure", id="cookie"),
    pytest.param("server-banner", Fault("server-banner"), "server-banner", id="server-banner"),
]


@pytest.mark.parametrize(("text", "expected", "canonical"), GOOD)
def test_each_fault_parses(text: str, expected: Fault, canonical: str) -> None:
    """Every fault of DESIGN.md's table parses into its value, in the service's units."""
    fault = parse_fault(text)

    assert fault == expected
    assert fault.text == canonical


@pytest.mark.parametrize(("text", "expected", "canonical"), GOOD)
def test_canonical_texts_read_back(text: str, expected: Fault, canonical: str) -> None:
    """A fault's canonical text parses back into the same fault, and so does a set's."""
    fault = parse_fault(canonical)
    faults = FaultSet.of([fault])

    assert fault == expected
    assert parse_faults(faults.describe()) == faults


def test_every_fault_name_is_covered_by_a_good_example() -> None:
    """The table above names every fault the service knows, so none goes untested."""
    named = {str(p.values[0]).partition("=")[0].strip().lower() for p in GOOD}

    assert named == set(FAULT_NAMES)


BAD = [
    pytest.param("", "it is empty", id="empty"),
    pytest.param("earthquake=1", "unknown fault name 'earthquake'", id="unknown-name"),
    pytest.param("latency", "latency needs a value, e.g. latency=300ms", id="missing-value"),
    pytest.param("latency=", "latency needs a value", id="empty-value"),
    pytest.param("latency=fast", "'fast' is not a duration such as 300ms or 1.5s", id="not-dur"),
    pytest.param("latency=300", "'300' is not a duration", id="no-unit"),
    pytest.param("latency=-5ms", "'-5ms' is not a duration", id="negative"),
    pytest.param("latency=0ms", "the duration must be more than 0", id="zero"),
    pytest.param("latency=400ms..100ms", "a range goes from low to high", id="reversed"),
    pytest.param("latency=1h", "'1h' is not a duration", id="hours"),
    pytest.param("latency=301s", "the duration must be at most 300s", id="too-long"),
    pytest.param("error-ratio=2", "the ratio must be from 0 to 1, not 2", id="ratio-above-1"),
    pytest.param("error-ratio=-0.1", "the ratio must be from 0 to 1", id="ratio-negative"),
    pytest.param("error-ratio=nan", "the ratio must be from 0 to 1", id="ratio-nan"),
    pytest.param("error-ratio=lots", "'lots' is not a number from 0 to 1", id="ratio-word"),
    pytest.param(
        "health=degraded:kafka",
        "unknown service 'kafka': SERVICE is one of database, cache, email",
        id="unknown-service",
    ),
    pytest.param("health=degraded", "write health=down or health=degraded:SERVICE", id="no-svc"),
    pytest.param("health=sick", "write health=down or health=degraded:SERVICE", id="health"),
    pytest.param("health=down:database", "write health=down or", id="down-with-service"),
    pytest.param("version=two words", "a version is 1 to 64 letters", id="version-space"),
    pytest.param(
        "drop-header=Server",
        "'Server' is not one of the security headers: Content-Security-Policy,",
        id="not-a-security-header",
    ),
    pytest.param("js-error=yes", "js-error takes no value; write js-error", id="flag-value"),
    pytest.param("db-down=", "db-down takes no value", id="flag-empty-value"),
    pytest.param("slow-page=soon", "'soon' is not a duration", id="slow-page"),
    pytest.param("refuse-for", "refuse-for needs a value, e.g. refuse-for=5s", id="refuse-for"),
    pytest.param("contract=bend", "write contract=break", id="contract-value"),
    pytest.param("cache-miss=1", "cache-miss takes no value; write cache-miss", id="cache-miss"),
    pytest.param("log-errors=yes", "log-errors takes no value", id="log-errors-value"),
    pytest.param("leak", "leak needs a value, e.g. leak=50", id="leak-no-value"),
    pytest.param("leak=lots", "'lots' is not a number of megabytes per second", id="leak-word"),
    pytest.param("leak=0", "the leak must be more than 0 and at most 200 MB/s", id="leak-zero"),
    pytest.param("leak=-5", "the leak must be more than 0", id="leak-negative"),
    pytest.param("leak=201", "at most 200 MB/s, not 201", id="leak-above-cap"),
    pytest.param("leak=nan", "the leak must be more than 0", id="leak-nan"),
    pytest.param("leak=50GB/s", "'50GB/s' is not a number of megabytes", id="leak-unit"),
    pytest.param("job-fail=1.5", "the ratio must be from 0 to 1, not 1.5", id="job-fail-above"),
    pytest.param("job-fail=some", "'some' is not a number from 0 to 1", id="job-fail-word"),
    pytest.param("job-fail", "job-fail needs a value, e.g. job-fail=0.5", id="job-fail-none"),
    pytest.param("realtime=on", "the only value is 'off'", id="realtime-on"),
    pytest.param("expose=../etc/passwd", "is not a path such as /.git/HEAD", id="expose-out"),
    pytest.param("expose=/a/../b", "is not a path such as", id="expose-dotdot"),
    pytest.param("cors=any", "the only value is 'reflect'", id="cors-any"),
]


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_bad_faults_say_what_is_wrong(text: str, reason: str) -> None:
    """A bad fault is one line: the text, what is wrong with it, and the valid faults."""
    with pytest.raises(FaultError) as caught:
        parse_fault(text)

    message = str(caught.value)
    assert message.startswith(f"bad fault {text.strip()!r}: ")
    assert reason in message
    assert message.endswith(f"valid faults: {', '.join(FAULT_FORMS)}")
    assert "\n" not in message


def test_fault_error_is_a_value_error_carrying_text_and_reason() -> None:
    """Callers can catch ValueError, or read the parts."""
    with pytest.raises(ValueError, match="bad fault") as caught:
        parse_fault("latency=soon")

    assert isinstance(caught.value, FaultError)
    assert (caught.value.text, caught.value.reason) == (
        "latency=soon",
        "'soon' is not a duration such as 300ms or 1.5s",
    )


def test_items_and_comma_separated_lists_combine() -> None:
    """`--fault` repeats and `RELEASEGATE_FAULTS` lists combine; empty items are skipped."""
    faults = parse_faults(["latency=10ms,db-down", "", "health=degraded:email,", " js-error "])

    assert faults == FaultSet(
        latency=(0.01, 0.01), db_down=True, degraded=frozenset({"email"}), js_error=True
    )


def test_no_items_is_a_healthy_service() -> None:
    """Nothing given (an unset variable is an empty item): no fault."""
    assert parse_faults([""]) == FaultSet()
    assert FaultSet().describe() == []


def test_single_valued_faults_keep_the_last_and_lists_add_up() -> None:
    """Two latencies: the last wins. Degraded services and dropped headers accumulate."""
    faults = parse_faults(
        [
            "latency=1s",
            "latency=20ms",
            "health=degraded:cache",
            "health=degraded:email",
            "drop-header=X-Frame-Options",
            "drop-header=referrer-policy",
        ]
    )

    assert faults.latency == (0.02, 0.02)
    assert faults.degraded == {"cache", "email"}
    assert faults.drop_headers == {"X-Frame-Options", "Referrer-Policy"}
    assert faults.drops("Referrer-Policy")
    assert not faults.drops("Content-Security-Policy")


def test_describe_lists_every_fault_in_a_stable_order() -> None:
    """describe() gives the canonical texts, whatever order they were given in."""
    faults = parse_faults(
        [
            "log-errors",
            "job-fail=0.5",
            "leak=20",
            "cache-miss",
            "contract=break",
            "refuse-for=2s",
            "db-down",
            "slow-page=1s",
            "js-error",
            "drop-header=X-Frame-Options",
            "version=3",
            "health=degraded:cache",
            "health=down",
            "error-ratio=0.5",
            "latency=5ms..10ms",
        ]
    )

    assert faults.describe() == [
        "latency=5ms..10ms",
        "error-ratio=0.5",
        "health=down",
        "health=degraded:cache",
        "version=3",
        "drop-header=X-Frame-Options",
        "js-error",
        "slow-page=1s",
        "db-down",
        "refuse-for=2s",
        "contract=break",
        "cache-miss",
        "leak=20",
        "job-fail=0.5",
        "log-errors",
    ]


def test_the_signal_faults_set_their_fields_and_the_last_value_wins() -> None:
    """cache-miss and log-errors are flags; leak and job-fail keep the last value given."""
    faults = parse_faults(["leak=10,leak=50", "job-fail=1", "job-fail=0.2", "cache-miss"])

    assert faults == FaultSet(cache_miss=True, leak_mb_per_s=50.0, job_fail=0.2)
    assert parse_faults(["log-errors"]) == FaultSet(log_errors=True)


def test_the_valid_faults_name_the_signal_and_audit_faults_in_their_forms() -> None:
    """What a bad fault's message lists: the new forms as outside checks write them."""
    assert FAULT_FORMS[-10:] == (
        "cache-miss",
        "leak=MB/s",
        "job-fail=0..1",
        "log-errors",
        "realtime=off",
        "beacon=off",
        "expose=PATH",
        "cors=reflect",
        "cookie-insecure",
        "server-banner",
    )


def test_a_refusal_is_an_event_not_a_lasting_fault() -> None:
    """without_refusal() keeps every other fault."""
    faults = parse_faults(["refuse-for=5s", "version=2"])

    assert faults.without_refusal() == parse_faults(["version=2"])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.3, "300ms"), (0.0005, "0.5ms"), (1.0, "1s"), (1.5, "1.5s"), (0.1 * 3, "300ms")],
    ids=["ms", "sub-ms", "one-second", "seconds", "float-noise"],
)
def test_durations_print_in_the_unit_they_read_best_in(seconds: float, text: str) -> None:
    """Below a second in ms, from a second on in s; float noise does not show."""
    assert format_duration(seconds) == text
