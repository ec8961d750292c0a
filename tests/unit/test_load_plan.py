"""Planning a load run: the guardrails refuse before anything starts, and the command lines
say what Locust will do (target, profile files, tags, master and workers on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config import load_environment
from releasegate.errors import LoadRefused
from releasegate.load.params import LoadParams
from releasegate.load.runner import plan_load

ENV = """
[target]
base_url = "https://staging.example.com"
read_only = {read_only}
headers = {{ Authorization = "Bearer ${{TOKEN}}" }}

[load]
locustfile = "{locustfile}"
{extra}
"""


def plan(tmp_path: Path, *, read_only: bool = False, extra: str = "", locustfile: str = "load.py"):  # type: ignore[no-untyped-def]
    (tmp_path / "load.py").write_text("# a locustfile\n")
    text = ENV.format(read_only=str(read_only).lower(), extra=extra, locustfile=locustfile)
    (tmp_path / "staging.toml").write_text(text)
    env = load_environment("staging", tmp_path, {"TOKEN": "secret-token-123"})
    return plan_load(env, "https://staging.example.com", tmp_path / "out", tmp_path)


def test_a_read_only_environment_is_refused_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(
        LoadRefused, match="env=staging is read-only; set \\[load\\] allowed = true"
    ):
        plan(tmp_path, read_only=True)

    allowed = plan(tmp_path, read_only=True, extra="allowed = true")
    assert allowed.master[allowed.master.index("--exclude-tags") + 1] == "writes"


def test_a_missing_locustfile_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LoadRefused, match=r"no locustfile at .*nope\.py"):
        plan(tmp_path, locustfile="nope.py")


def test_one_process_gets_the_profile_the_guard_and_the_target(tmp_path: Path) -> None:
    made = plan(tmp_path, extra='profile = "ramp"\nusers = 20')

    files = made.master[made.master.index("-f") + 1].split(",")
    assert [Path(f).name for f in files] == ["load.py", "ramp.py", "guard.py"]
    assert made.environ["LOCUST_HOST"] == "https://staging.example.com"
    assert "--host" not in made.master  # by environment: a URL may hold a secret
    assert "--master" not in made.master
    assert made.workers == []
    assert "writes" not in made.master  # a writable environment keeps every task
    assert "20 users" in made.description


def test_secrets_travel_in_the_environment_never_in_argv(tmp_path: Path) -> None:
    made = plan(tmp_path)

    assert not any("secret-token-123" in arg for arg in made.master)
    assert LoadParams.from_environ(made.environ).headers == {
        "Authorization": "Bearer secret-token-123"
    }


def test_workers_join_a_master_on_loopback(tmp_path: Path) -> None:
    made = plan(tmp_path, extra='workers = 2\nexpect_workers = 1\nworker_wait = "7s"')

    port = made.master[made.master.index("--master-bind-port") + 1]
    assert made.master[made.master.index("--master-bind-host") + 1] == "127.0.0.1"
    assert made.master[made.master.index("--expect-workers") + 1] == "3"
    assert made.master[made.master.index("--expect-workers-max-wait") + 1] == "7"
    assert len(made.workers) == 2
    for worker in made.workers:
        assert worker[worker.index("--master-host") + 1] == "127.0.0.1"
        assert worker[worker.index("--master-port") + 1] == port
    assert "waiting for 1 more" in made.description


def test_the_command_line_can_set_the_local_workers(tmp_path: Path) -> None:
    (tmp_path / "load.py").write_text("# a locustfile\n")
    (tmp_path / "staging.toml").write_text(
        ENV.format(read_only="false", extra="workers = 0", locustfile="load.py")
    )
    env = load_environment("staging", tmp_path, {"TOKEN": "secret-token-123"})

    made = plan_load(
        env, "https://staging.example.com", tmp_path / "out", tmp_path, local_workers=3
    )

    assert len(made.workers) == 3
    assert "--master" in made.master
