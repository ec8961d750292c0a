"""How the project's own tests are scheduled: `./dev test` runs them on several pytest-xdist
workers with `--dist loadgroup` (made to work on pytest 9.2 by tests/xdist_groups.py), so three
things are decided here, for the whole session.

- Groups (`xdist_group`): the tests that share a module-scoped fixture costing one or more gate
  runs (a report site, a finished monitor, a rolled-back rollout, an nginx, the healthy smoke run
  the smoke and browser gates' tests read) run on one worker, so that fixture is built once
  rather than once per worker; so do the tests of the PostgreSQL cluster (one `initdb` instead
  of one per worker).
- `slow`: the end-to-end tests of a minute or more on a loaded machine. `./dev test` and CI run
  them; `pytest tests -m "not slow"` leaves them out.
- Order: groups and slow tests first, then the other integration and plugin tests, unit tests
  last, so no long test starts when the other workers are about to finish.

Tests are named here by function name (or module and fixture), not by path, so they keep their
mark when moved to another file.
"""

from __future__ import annotations

import signal

import pytest

pytest_plugins = ["pytester", "tests.xdist_groups", "tests.quiet_machine"]

# The slowest end-to-end tests (each a minute or more on this 2-core machine under load):
# several gate runs, a whole demo, Chromium per xdist worker, restarts watched at 25 probes/s.
SLOW_TESTS = frozenset(
    {
        "test_demo_on_a_healthy_service_ends_in_go",
        "test_demo_with_a_degraded_database_ends_in_rollback",
        "test_parallel_workers_give_the_same_outcomes_as_a_serial_run",
        "test_parallel_workers_each_drive_a_browser",
        "test_nginx_that_answered_its_baseline_and_then_stopped_is_rollback",
        "test_a_graceful_restart_shows_no_downtime",
        "test_a_killed_worker_is_missing_evidence",
        "test_ctrl_c_in_a_hook_wrapper_still_marks_the_run_interrupted",
        "test_a_secret_planted_everywhere_is_in_no_report_in_any_encoding",
        "test_an_outage_open_when_a_monitor_ends_is_carried_into_the_next",
        "test_allure_html_is_rendered_when_node_is_there",
        # init, then smoke + post-deploy + SLO on the written file (400 SLO samples each)
        "test_init_finds_what_the_application_serves_and_the_gates_say_go",
        "test_releasegate_init_writes_a_file_on_which_the_gates_say_go",
        # third-party applications behind the fault proxy, sampled by the SLO gate for 12 s
        "test_slow_answers_fail_the_latency_objective",
        "test_through_a_slow_proxy_the_slo_gate_says_rollback",
        "test_through_a_proxy_answering_half_with_500_the_slo_gate_says_rollback",
    }
)

# (module, module-scoped fixture): what the fixture builds, once for every test using it
SHARED_FIXTURES = {
    ("test_report_site", "site"): "two full gate runs and a report site",
    ("test_report_site", "browser"): "a Chromium",
    ("test_monitor", "outage"): "a monitor over an outage and its report site",
    ("test_rollout", "rolled_back"): "a four-stage rollout with real gate runs",
    ("test_third_party_nginx", "nginx"): "an nginx serving the static site",
    ("test_installed_package", "installed"): "the wheel, built and installed in a new virtualenv",
    ("test_third_party_kinto", "kinto"): "kinto installed in a virtualenv of its own, running",
}
# fixtures of tests/integration/conftest.py shared by tests in several modules
SESSION_FIXTURES = {
    "healthy_smoke_run": "a smoke run of every check, browser too",
    "closed_port_smoke_run": "a smoke run of every check against a closed port",
}
SLOW_FIXTURES = frozenset(
    {
        ("test_report_site", "site"),
        ("test_monitor", "outage"),
        # a wheel built and installed, kinto installed and run: CI runs them (--all)
        ("test_installed_package", "installed"),
        ("test_third_party_kinto", "kinto"),
    }
)
# the session's throwaway PostgreSQL server (tests/integration/pg_cluster.py)
POSTGRES_FIXTURE = "postgres_cluster"


def _group(item: pytest.Item) -> tuple[str | None, bool]:
    """The item's xdist group (or None) and whether a slow shared fixture puts it there."""
    module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
    names = set(getattr(item, "fixturenames", ()))
    for module_name, fixture in SHARED_FIXTURES:
        if module == module_name and fixture in names:
            return f"{module}-{fixture}", (module_name, fixture) in SLOW_FIXTURES
    for fixture in SESSION_FIXTURES:
        if fixture in names:
            return fixture, False
    if POSTGRES_FIXTURE in names:
        return "postgres", False
    return None, False


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker("slow") or item.get_closest_marker("xdist_group"):
        return 0
    return 2 if item.nodeid.startswith("tests/unit/") else 1


@pytest.hookimpl(tryfirst=True)  # before -m deselects and xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group, slow_fixture = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        if slow_fixture or getattr(item, "originalname", item.name) in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
    # a stable sort: within a rank, the collection order (xdist needs the same on every worker)
    items.sort(key=_rank)


def pytest_configure(config: pytest.Config) -> None:
    # A shell starts a background job (`./dev test &`) with SIGINT ignored, and every process
    # it starts inherits that: the gate runs the tests interrupt would ignore Ctrl-C, and the
    # tests of interrupted runs would fail for how the suite was launched. A handler (unlike
    # an ignored signal) is reset for each child, so they get Ctrl-C back.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
