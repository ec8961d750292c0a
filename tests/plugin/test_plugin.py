"""The plugin on a small gate project of its own (pytester): classification, markers, skips."""

from __future__ import annotations

import json
from pathlib import Path

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


TITLED = '''
import pytest

pytestmark = pytest.mark.smoke

class Page:
    def __init__(self, name):
        self.name = name

def test_checkout_page_loads():
    assert False, "GET /checkout answered 500"

@pytest.mark.parametrize("page", [Page("Checkout"), Page("Basket")], ids=["/checkout", "/basket"])
def test_page_answers(page):
    """The {page} page answers within {id}.

    Technical detail for engineers: `[[pages]]`."""

@pytest.mark.parametrize("token", ["planted-title-secret"], ids=["token"])
def test_token(token):
    """The token {token} is accepted."""
    assert False, "rejected"
'''


def test_titles_reach_results_json_and_the_verdict_lines(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each check's title (its docstring's first sentence, filled in; or its name in words) is
    in results.json, masked like messages, and leads its reason in the terminal's verdict."""
    monkeypatch.setenv("TITLE_SECRET", "planted-title-secret")
    (project.path / "environments" / "staging.toml").write_text(
        ENV.format(extra='headers = { X-Token = "${TITLE_SECRET}" }')
    )
    project.makepyfile(test_gate=TITLED)

    result = project.runpytest("--env", "staging")

    data = json.loads((project.path / "reports" / "latest" / "results.json").read_text())
    titles = {c["id"].split("::")[1]: c["title"] for c in data["checks"]}
    assert titles == {
        "test_checkout_page_loads": "Checkout page loads",
        "test_page_answers[/checkout]": "The Checkout page answers within /checkout",
        "test_page_answers[/basket]": "The Basket page answers within /basket",
        "test_token[token]": "The token ******** is accepted",
    }
    result.stdout.fnmatch_lines(
        [
            "verdict: ROLLBACK*",
            "  Checkout page loads: GET /checkout answered 500 (test_gate.py::*; check-failed)",
            "  The token ******** is accepted: rejected (test_gate.py::test_token*; check-failed)",
        ]
    )
    assert "planted-title-secret" not in result.stdout.str()


# Writes every collected check's title to titles.json (the run itself writes none: nothing ran)
DUMP_TITLES = """
import json
from pathlib import Path

from releasegate.pytest_plugin._keys import TITLE

def pytest_collection_finish(session):
    titles = {item.nodeid: item.stash.get(TITLE, None) for item in session.items}
    Path("titles.json").write_text(json.dumps(titles))
"""


def test_every_bundled_check_collected_for_the_reference_environment_has_a_title(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled gates, collected for environments/local.toml (pages, endpoints, objectives,
    metrics, logs, live channels, security rules): every title is filled in, names no
    placeholder, no test function, and no two checks share one."""
    root = Path(__file__).resolve().parents[2]
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:randomly\n")
    pytester.makepyfile(titles_dump=DUMP_TITLES)
    # a Prometheus "already running" where nothing listens: none is started for collection
    monkeypatch.setenv("RELEASEGATE_REFERENCE_PROMETHEUS", "http://127.0.0.1:9")

    result = pytester.runpytest_subprocess(
        *("-p", "titles_dump", "-p", "no:hypothesispytest", "--collect-only", "-q"),
        *("--bundled-gates=yes", "--env", str(root / "environments" / "local.toml")),
        *("--base-url", "http://127.0.0.1:9"),  # no reference service started either
    )

    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    titles: dict[str, str | None] = json.loads((pytester.path / "titles.json").read_text())
    assert len(titles) >= 100
    odd = {
        node: title
        for node, title in titles.items()
        if not title or any(text in title for text in ("{", "}", "`", "test_", "::"))
    }
    assert not odd
    assert len(set(titles.values())) == len(titles)
    load = "suites/load/test_load.py::test_overall_latency_is_within_threshold"
    assert titles[f"{load}[p95]"] == "Overall p95 latency under load is within its threshold"
    assert titles["suites/slo/test_objectives.py::test_objective_is_met[p95]"] == (
        "The p95 latency objective is met"
    )
