"""Fault texts of the reference service: each name parses, bad ones say what is wrong."""

from __future__ import annotations

import pytest

from releasegate.target.faults import FaultError, FaultSet, parse_fault, parse_faults

GOOD = [
    pytest.param("latency=300ms", FaultSet(latency=(0.3, 0.3)), id="latency-fixed"),
    pytest.param("latency=100ms..400ms", FaultSet(latency=(0.1, 0.4)), id="latency-range"),
    pytest.param("latency=1.5s", FaultSet(latency=(1.5, 1.5)), id="latency-seconds"),
    pytest.param("error-ratio=0.2", FaultSet(error_ratio=0.2), id="error-ratio"),
    pytest.param("health=down", FaultSet(health_down=True), id="health-down"),
    pytest.param(
        "health=degraded:database", FaultSet(degraded=frozenset({"database"})), id="degraded"
    ),
    pytest.param("version=9.9.9", FaultSet(version="9.9.9"), id="version"),
    pytest.param(
        "drop-header=Content-Security-Policy",
        FaultSet(drop_headers=frozenset({"content-security-policy"})),
        id="drop-header",
    ),
    pytest.param("js-error", FaultSet(js_error=True), id="js-error"),
    pytest.param("slow-page=3s", FaultSet(slow_page=3.0), id="slow-page"),
    pytest.param("db-down", FaultSet(db_down=True), id="db-down"),
    pytest.param("refuse-for=5s", FaultSet(refuse_for=5.0), id="refuse-for"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_each_fault_name_parses(text: str, expected: FaultSet) -> None:
    """Every fault of DESIGN.md's table parses into its effect."""
    assert parse_fault(text) == expected


@pytest.mark.parametrize(("text", "_expected"), GOOD)
def test_describe_reads_back(text: str, _expected: FaultSet) -> None:
    """`describe()` gives texts that parse back into the same faults."""
    faults = parse_fault(text)

    assert parse_faults(faults.describe()) == faults


BAD = [
    pytest.param(
        "earthquake=1", "unknown fault 'earthquake=1'; known faults: latency=", id="unknown"
    ),
    pytest.param("latency", "needs a value", id="missing-value"),
    pytest.param("latency=fast", "is not a duration such as 300ms", id="bad-duration"),
    pytest.param("latency=400ms..100ms", "from low to high", id="reversed-range"),
    pytest.param("error-ratio=2", "from 0 to 1", id="ratio-too-big"),
    pytest.param("error-ratio=lots", "not a number from 0 to 1", id="ratio-not-a-number"),
    pytest.param("health=degraded:kafka", "SERVICE one of database, cache, email", id="service"),
    pytest.param("health=sick", "write health=down or health=degraded:SERVICE", id="health"),
    pytest.param("js-error=yes", "takes no value", id="unexpected-value"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_faults_are_one_line_errors(text: str, message: str) -> None:
    """A bad fault names itself and what is wrong, on one line."""
    with pytest.raises(FaultError) as caught:
        parse_fault(text)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_faults_combine_from_lists_and_comma_separated_items() -> None:
    """`--fault` repeats and `RELEASEGATE_FAULTS` lists combine into one set."""
    faults = parse_faults(["latency=10ms,db-down", "health=degraded:email", ""])

    assert faults == FaultSet(latency=(0.01, 0.01), db_down=True, degraded=frozenset({"email"}))
