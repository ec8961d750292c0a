"""What the CLI asks of the core: pytest's command line, the demo's checkout, a monitor's
settings and history, and finding a rollout to act on."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from releasegate.config import Environment, load_environment
from releasegate.errors import RolloutBusy, RolloutRefused
from releasegate.ops.demo import project_root
from releasegate.ops.deploy_watch import deploy_command
from releasegate.ops.monitor.monitor_setup import history_link, monitor_settings, new_monitor
from releasegate.ops.monitor.uptime_history import MONITORS_DIR, UPTIME_FILE, IncidentRecord
from releasegate.ops.pytest_argv import existing_stages, pytest_argv, stage_markers
from releasegate.ops.rollout.operate import find_rollout, locked
from releasegate.ops.watch import watch_plan

ENV = '[target]\nbase_url = "https://staging.example.com"\n'


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    (tmp_path / "staging.toml").write_text(ENV + "[monitor]\nalert_after = 3\n")
    return load_environment("staging", tmp_path, {})


# --- pytest's command line -------------------------------------------------------------------


def test_stage_names_are_markers_each_once_in_order() -> None:
    assert stage_markers(["post-deploy", "smoke", "post_deploy"]) == ["post_deploy", "smoke"]


def test_an_unknown_stage_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown stage 'smok'; stages: pre-deploy, smoke"):
        stage_markers(["smok"])


def test_the_pytest_command_line_of_a_gate_run(tmp_path: Path) -> None:
    """One pytest run of the stages, its evidence under the reports folder, no cache; options
    only when given."""
    argv = pytest_argv(
        Path("suites"),
        ["smoke", "slo"],
        env_file=tmp_path / "e.toml",
        run_id="r1",
        reports_dir=tmp_path / "reports",
        base_url="http://127.0.0.1:9",
        workers="2",
        reruns=1,
    )

    assert argv[:6] == [sys.executable, "-m", "pytest", "suites", "-m", "smoke or slo"]
    assert argv[6:] == [
        f"--env={tmp_path / 'e.toml'}", "--run-id", "r1", f"--reports-dir={tmp_path / 'reports'}",
        "-p", "no:cacheprovider", "--base-url=http://127.0.0.1:9", "-n", "2", "--reruns", "1",
    ]  # fmt: skip


def test_existing_stages_are_the_suite_folders_with_tests(tmp_path: Path) -> None:
    (tmp_path / "suites" / "smoke").mkdir(parents=True)
    (tmp_path / "suites" / "smoke" / "test_health.py").write_text("")
    (tmp_path / "suites" / "slo").mkdir()

    assert existing_stages(tmp_path) == ["smoke"]


def test_the_demo_finds_its_checkout_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "suites").mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "local.toml").write_text("")
    (tmp_path / "docs").mkdir()

    assert project_root(tmp_path / "docs") == tmp_path


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["./deploy.sh v1 && ./smoke.sh"], "./deploy.sh v1 && ./smoke.sh"),
        (["./deploy.sh", "v1"], ["./deploy.sh", "v1"]),
        (["./deploy.sh"], ["./deploy.sh"]),
    ],
    ids=["one-word-with-spaces-is-shell", "words-are-argv", "one-word-is-argv"],
)
def test_the_deploy_command_from_the_command_line(
    words: list[str], expected: str | list[str]
) -> None:
    assert deploy_command(words) == expected


# --- a monitor -------------------------------------------------------------------------------


def test_monitor_settings_take_the_command_line_over_the_file(env: Environment) -> None:
    settings = monitor_settings(
        env, stages=[], every_s=60.0, for_s=None, max_checks=2, alert_after=None
    )

    assert (settings.stages, settings.every_s, settings.max_checks) == (["smoke"], 60.0, 2)
    assert settings.alert_after == 3  # the file's
    assert settings.for_s == env.model.monitor.for_


def test_a_new_monitor_goes_on_with_the_open_incident_of_the_previous_one(
    env: Environment, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    settings = monitor_settings(
        env, stages=["smoke"], every_s=60.0, for_s=600.0, max_checks=None, alert_after=None
    )
    first = new_monitor(env, settings, "https://staging.example.com", reports)
    first.history.incidents = [
        IncidentRecord(
            started_at=first.history.started_at - timedelta(minutes=5),
            failed_checks=3,
            confirmed=True,
            reason="down",
        )
    ]
    first.history.finished_at = first.history.started_at
    first.history.write(first.uptime_file)

    second = new_monitor(env, settings, "https://staging.example.com", reports)

    assert second.carried is not None
    assert second.carried.carried_from == first.history.id
    assert second.history.incidents == [second.carried]
    assert second.folder == reports / MONITORS_DIR / second.history.id


def test_the_history_link_is_the_file_without_a_published_site(
    env: Environment, tmp_path: Path
) -> None:
    link = history_link(env, tmp_path, "m1")

    assert link == (tmp_path / UPTIME_FILE).resolve().as_uri()


# --- rollouts --------------------------------------------------------------------------------


def test_finding_a_rollout_where_there_is_none_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RolloutRefused, match="no rollouts under"):
        find_rollout("prod", None, tmp_path, unfinished=True)


def test_a_rollout_locked_by_another_holder_is_busy(tmp_path: Path) -> None:
    """flock is per open file: a second lock of the same file, even here, is refused."""
    lock = tmp_path / "r1" / "lock"
    busy = pytest.raises(RolloutBusy, match="rollout r1 is being run")
    with locked(lock, "rollout r1"), busy, locked(lock, "rollout r1"):
        pass


# --- what a watch probes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "endpoints", "expected"),
    [
        pytest.param("", "", ["/api/health"], id="default-health-path"),
        pytest.param(
            'health_path = "/up"\n',
            '[[endpoints]]\npath = "/a"\n[[endpoints]]\npath = "/b"\nmethod = "POST"\n',
            ["/up", "/a"],
            id="health-and-get-endpoints",
        ),
        pytest.param(
            'health_path = ""\n', '[[endpoints]]\npath = "/a"\n', ["/a"], id="no-health-endpoint"
        ),
        pytest.param('health_path = ""\n', "", ["/"], id="nothing-listed-the-home-page"),
    ],
)
def test_a_watch_probes_the_health_path_and_get_endpoints(
    tmp_path: Path, target: str, endpoints: str, expected: list[str]
) -> None:
    """An application without a health endpoint (`health_path = ""`) is watched through its
    GET endpoints, or its home page when it lists none: never through an empty path."""
    (tmp_path / "staging.toml").write_text(ENV + target + endpoints)
    env = load_environment("staging", tmp_path, {})

    assert watch_plan(env, "https://staging.example.com").paths == expected
