"""The plugin on a small gate project of its own (pytester): classification, markers, skips."""

from __future__ import annotations

import json

import pytest

ENV = """
[target]
base_url = "http://127.0.0.1:9"
{extra}
"""

SUITE = """
import pytest
from releasegate.errors import EvidenceMissing

pytestmark = pytest.mark.smoke

def test_passes(measure):
    measure("latency", 12.5, unit="ms", threshold=500, comparison="<=")

def test_product_defect():
    assert 500 == 200, "GET /x answered 500, expected 200"

def test_cannot_measure():
    raise EvidenceMissing("GET /x: connection refused after 3 attempts")

def test_gate_bug():
    {}["missing"]

@pytest.mark.advisory
def test_advisory_failure():
    assert False, "nice to have"

@pytest.mark.writes
def test_writes():
    pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    # pytest-playwright wraps each test call in a soft-assertion scope that cannot nest, and
    # these in-process runs happen inside a test of ours; their gates use no browser
    # a repository with its own checks only: the bundled gates are proven elsewhere
    pytester.makeini(
        "[pytest]\naddopts = -p no:cacheprovider -p no:randomly -p no:playwright"
        " --bundled-gates=no\n"
    )
    pytester.mkdir("environments")
    (pytester.path / "environments" / "staging.toml").write_text(ENV.format(extra=""))
    (pytester.path / "environments" / "local.toml").write_text(
        ENV.format(extra="read_only = false")
    )
    pytester.makepyfile(test_gate=SUITE)
    return pytester


def results(project: pytest.Pytester) -> dict[str, dict[str, object]]:
    data = json.loads((project.path / "reports" / "latest" / "results.json").read_text())
    return {c["id"].split("::")[1]: c for c in data["checks"]}


def test_outcomes_are_classified_by_cause(project: pytest.Pytester) -> None:
    """Assertion: failed (product); EvidenceMissing or any other exception: error."""
    project.runpytest("--env", "staging")

    checks = results(project)

    assert checks["test_passes"]["outcome"] == "passed"
    assert (checks["test_product_defect"]["outcome"], checks["test_product_defect"]["cause"]) == (
        "failed",
        "product",
    )
    assert (checks["test_cannot_measure"]["outcome"], checks["test_cannot_measure"]["cause"]) == (
        "error",
        "inconclusive",
    )
    assert checks["test_gate_bug"]["outcome"] == "error"
    assert checks["test_cannot_measure"]["message"] == (
        "EvidenceMissing: GET /x: connection refused after 3 attempts"
    )
    assert checks["test_product_defect"]["message"] == "GET /x answered 500, expected 200"


def test_terminal_reports_unmeasurable_checks_as_errors(project: pytest.Pytester) -> None:
    """pytest's own summary counts could-not-measure checks as errors, not failures."""
    result = project.runpytest("--env", "staging")

    result.assert_outcomes(passed=1, failed=2, errors=2, skipped=1)


def test_measurements_are_recorded(project: pytest.Pytester) -> None:
    """`measure` puts name, value, unit, threshold and comparison into results.json."""
    project.runpytest("--env", "staging")

    (measurement,) = results(project)["test_passes"]["measurements"]  # type: ignore[misc]

    assert measurement == {
        "name": "latency",
        "value": 12.5,
        "unit": "ms",
        "threshold": 500.0,
        "comparison": "<=",
        "samples": None,
        "source": None,
        "window": None,
        "at": None,
        "outcome": None,
        "note": None,
    }


def test_advisory_checks_do_not_block(project: pytest.Pytester) -> None:
    """A check marked advisory is recorded as non-blocking."""
    project.runpytest("--env", "staging")

    assert results(project)["test_advisory_failure"]["blocking"] is False
    assert results(project)["test_product_defect"]["blocking"] is True


def test_writes_are_skipped_on_read_only_environments(project: pytest.Pytester) -> None:
    """Non-local environments are read-only by default: `writes` tests skip, saying why."""
    project.runpytest("--env", "staging")

    check = results(project)["test_writes"]
    assert check["outcome"] == "skipped"
    assert "env=staging is read-only" in str(check["message"])


def test_writes_run_on_writable_environments(project: pytest.Pytester) -> None:
    """`local` is writable: `writes` tests run."""
    project.runpytest("--env", "local")

    assert results(project)["test_writes"]["outcome"] == "passed"


def test_the_plugin_is_inert_without_an_environment(pytester: pytest.Pytester) -> None:
    """A repository's ordinary tests run untouched: no reports, no usage error."""
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:playwright")

    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_gate_tests_without_an_environment_are_a_usage_error(project: pytest.Pytester) -> None:
    """Stage-marked tests collected with no --env: usage error listing the environments."""
    result = project.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no environment was chosen*known: local, staging*"])


def test_a_bad_environment_file_is_a_one_line_usage_error(project: pytest.Pytester) -> None:
    """A bad file stops pytest before any test, naming file, key and problem."""
    (project.path / "environments" / "staging.toml").write_text(
        '[target]\nbase_url = "http://127.0.0.1:9"\nretries = -1\n'
    )

    result = project.runpytest("--env", "staging")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*environments/staging.toml: target.retries must be >= 0 (got -1)"]
    )


def test_the_run_id_can_be_chosen_and_is_checked(project: pytest.Pytester) -> None:
    """--run-id names the folder; a bad one is a usage error."""
    project.runpytest("--env", "staging", "--run-id", "release-42")
    bad = project.runpytest("--env", "staging", "--run-id", "../escape")

    assert (project.path / "reports" / "release-42" / "results.json").is_file()
    assert bad.ret == pytest.ExitCode.USAGE_ERROR


FLAKY = """
import pytest
from pathlib import Path

pytestmark = pytest.mark.smoke

def test_flaky(tmp_path_factory):
    marker = Path(__file__).with_name("attempted")
    first = not marker.exists()
    marker.write_text("x")
    assert not first, "fails on the first attempt only"
"""


def test_a_check_passing_on_a_retry_is_recorded_as_flaky(project: pytest.Pytester) -> None:
    """With pytest-rerunfailures, a pass on the second attempt is passed, flaky, 2 attempts."""
    project.makepyfile(test_gate=FLAKY)

    project.runpytest("--env", "staging", "--reruns", "1")

    check = results(project)["test_flaky"]
    assert (check["outcome"], check["flaky"], check["attempts"]) == ("passed", True, 2)


def test_policy_contradictions_are_warned_in_the_header(project: pytest.Pytester) -> None:
    """Lint runs when the environment loads: a gate run's header shows the warning."""
    (project.path / "environments" / "staging.toml").write_text(
        ENV.format(extra='[slo]\navailability_min = "99.9%"\nerror_ratio_max = "1%"')
    )

    result = project.runpytest("--env", "staging")

    result.stdout.fnmatch_lines(["releasegate warning: *error budget*in 3.0 days"])


def test_a_gate_run_takes_its_stages_in_the_checklists_order(project: pytest.Pytester) -> None:
    """pytest finds `load/` first and `smoke/` last; a gate run takes pre-deploy, smoke,
    post-deploy, load, then the SLO gate (which reads the load stage's statistics), each
    stage's checks in the order they were found."""
    for stage, folder in [
        ("load", "a_load"),
        ("slo", "b_slo"),
        ("smoke", "c_smoke"),
        ("post_deploy", "d_post"),
        ("pre_deploy", "e_pre"),
    ]:
        project.mkdir(folder)
        (project.path / folder / f"test_{folder}.py").write_text(
            f"import pytest\npytestmark = pytest.mark.{stage}\n"
            f"def test_{folder}_1(): pass\ndef test_{folder}_2(): pass\n"
        )
    (project.path / "test_gate.py").unlink()

    result = project.runpytest("--env", "staging", "-v")

    ran = [line.split("::")[1].split()[0] for line in result.outlines if " PASSED" in line]
    assert ran == [
        f"test_{folder}_{n}"
        for folder in ("e_pre", "c_smoke", "d_post", "a_load", "b_slo")
        for n in (1, 2)
    ]
