"""The `expect` fixture on a small gate project (pytester): a threshold check in one call records
its measurement, fails the check with its message, hides its own frames, and takes a value of
None as missing evidence, never as a pass."""

from __future__ import annotations

import json

import pytest

ENV = """
[target]
base_url = "http://127.0.0.1:9"
"""

SUITE = """
import pytest

pytestmark = pytest.mark.smoke

def test_within(expect):
    expect("query latency", 12.5, "<=", 200, unit="ms")

def test_over(expect):
    expect("query latency", 812.0, "<=", 500, unit="ms", samples=300, context="env=staging")

def test_over_with_message(expect):
    expect(
        "backup age",
        30.0,
        "<=",
        24,
        unit="h",
        context="env=staging",
        message="/backups/db.dump: the newest backup is 30.0 h old, older than 24 h",
    )

def test_nothing_measured(expect):
    expect("largest contentful paint", None, "<=", 2500, unit="ms")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    # as in test_plugin.py: no Playwright in these in-process runs (they use no browser)
    # a repository with its own checks only: the bundled gates are proven elsewhere
    pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:randomly -p no:playwright"
        " --bundled-gates=no\n"
    )
    pytester.mkdir("environments")
    (pytester.path / "environments" / "staging.toml").write_text(ENV)
    pytester.makepyfile(test_gate=SUITE)
    return pytester


def checks_of(project: pytest.Pytester) -> dict[str, dict[str, object]]:
    data = json.loads((project.path / "reports" / "latest" / "results.json").read_text())
    return {c["id"].split("::")[1]: c for c in data["checks"]}


def test_expect_records_the_measurement_with_its_limit(project: pytest.Pytester) -> None:
    """The measurement goes into results.json with its limit and comparison, pass or fail."""
    project.runpytest("--env", "staging")

    checks = checks_of(project)

    assert checks["test_within"]["outcome"] == "passed"
    assert checks["test_within"]["measurements"] == [
        {
            "name": "query latency",
            "value": 12.5,
            "unit": "ms",
            "threshold": 200.0,
            "comparison": "<=",
            "samples": None,
            "source": None,
            "window": None,
            "at": None,
            "outcome": None,
            "note": None,
        }
    ]
    assert checks["test_over"]["measurements"] == [
        {
            "name": "query latency",
            "value": 812.0,
            "unit": "ms",
            "threshold": 500.0,
            "comparison": "<=",
            "samples": 300,
            "source": None,
            "window": None,
            "at": None,
            "outcome": None,
            "note": None,
        }
    ]


def test_a_broken_limit_fails_the_check_naming_value_limit_and_context(
    project: pytest.Pytester,
) -> None:
    """Over the limit is a failed check (the target found wrong), its message the default
    phrasing or the one given, with the context after it."""
    project.runpytest("--env", "staging")

    checks = checks_of(project)

    assert (checks["test_over"]["outcome"], checks["test_over"]["cause"]) == ("failed", "product")
    assert checks["test_over"]["message"] == (
        "query latency 812 ms is over the limit of 500 ms (env=staging)"
    )
    assert checks["test_over_with_message"]["message"] == (
        "/backups/db.dump: the newest backup is 30.0 h old, older than 24 h (env=staging)"
    )


def test_the_traceback_shows_the_check_not_the_fixture(project: pytest.Pytester) -> None:
    """The failure points at the suite's line; the fixture's and the judge's frames are hidden."""
    result = project.runpytest("--env", "staging", "--tb=long")

    output = result.stdout.str()

    assert "CheckFailed: query latency 812 ms is over the limit of 500 ms" in output
    assert 'expect("query latency", 812.0' in output
    assert "fixtures.py" not in output
    assert "outcome.py" not in output


def test_nothing_measured_is_missing_evidence_not_a_pass(project: pytest.Pytester) -> None:
    """A value of None is an error (EvidenceMissing, inconclusive), never a pass."""
    result = project.runpytest("--env", "staging")

    checks = checks_of(project)

    nothing = checks["test_nothing_measured"]
    assert (nothing["outcome"], nothing["cause"]) == ("error", "inconclusive")
    assert nothing["message"] == "EvidenceMissing: largest contentful paint: nothing measured"
    result.assert_outcomes(passed=1, failed=2, errors=1)
