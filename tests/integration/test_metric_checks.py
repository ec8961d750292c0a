"""`[[metrics]]` and `[[logs]]` against applications releasegate did not write, through real gate
runs and `releasegate decide`: Debian's nginx (a JSON field by the web provider, its error log
in nginx's own time format read since a watched deploy started) and PostgreSQL's
pg_stat_statements (the "slow queries" example, through the command provider and psql)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    GateRun,
    gate_argv,
    releasegate_in_repo,
    run_in_repo,
    write_env,
)
from tests.integration.pg_cluster import PostgresServer, postgres_bin
from tests.integration.test_third_party_nginx import Nginx, _require, nginx_binary, write_site
from tests.webhook_receiver import WebhookReceiver

pytest_plugins = ["tests.integration.pg_cluster"]

CHECKS = "test_metric or test_log"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = _require(nginx_binary(), "nginx", "nginx")
    site = write_site(tmp_path_factory.mktemp("site") / "www")
    server = Nginx(binary, site, tmp_path_factory.mktemp("nginx")).start()
    try:
        yield server
    finally:
        server.stop()


def _post_deploy(envs: Path, name: str, reports: Path, run_id: str) -> tuple[GateRun, Any]:
    """`pytest suites -m post_deploy -k "test_metric or test_log"`, then `releasegate decide`."""
    env_file = envs / f"{name}.toml"
    argv = gate_argv(
        f"--env={env_file}", "-k", CHECKS, reports=reports, run_id=run_id, marker="post_deploy"
    )
    run = GateRun(run_in_repo(argv), reports / run_id)
    decided = releasegate_in_repo(envs, "decide", str(run.run_dir), "--env", name)
    return run, decided


NGINX_ENV = """
[target]
base_url = "{url}"
read_only = true
health_path = ""
version_path = ""

[watch]
rate = 5
before = "0.2s"
after = "0.2s"

[[metrics]]
name = "status ok"
stage = "post_deploy"
provider = "web"
url = "/api/status.json"
jsonpath = "$.status"
success = "result == 'ok'"
count = 2
interval = "0.2s"

[[logs]]
name = "no new errors in nginx's error log"
source = "file"
file = "{error_log}"
pattern = '\\[(error|crit|alert|emerg)\\]'
"""


def _deploy(envs: Path, reports: Path, url: str, path: str) -> None:
    """`releasegate watch` around a "deploy" that requests `path` once (a 404 of a missing
    file is an [error] line in nginx's error log, written after the deploy started)."""
    code = f"import urllib.request as r\ntry: r.urlopen({url + path!r})\nexcept Exception: pass"
    watched = releasegate_in_repo(
        envs, "watch", "--env", "nginx", "--reports-dir", str(reports), "--",
        sys.executable, "-c", code,
    )  # fmt: skip
    assert watched.returncode == 0, watched.stdout + watched.stderr


def test_nginx_healthy_deploy_passes_its_metric_and_log_checks(
    nginx: Nginx, tmp_path: Path
) -> None:
    """A deploy after which nginx logged no error: the JSON field holds, no new [error] line
    (its start-up lines are older than the deploy): GO."""
    envs = tmp_path / "environments"
    write_env(
        envs, "nginx", NGINX_ENV.format(url=nginx.base_url, error_log=nginx.prefix / "error.log")
    )
    _deploy(envs, tmp_path / "reports", nginx.base_url, "/")

    run, decided = _post_deploy(envs, "nginx", tmp_path / "reports", "healthy")

    assert decided.returncode == 0, run.output + decided.stdout
    assert run.outcomes() == {
        "test_post_deploy_metrics.py::test_metric[status ok]": "passed",
        "test_post_deploy_metrics.py::test_log[no new errors in nginx's error log]": "passed",
    }
    note = run.check("test_log[no new errors in nginx's error log]").measurements[0].note
    assert "(the deploy's watch started): none" in (note or "")


def test_nginx_error_after_the_deploy_is_a_rollback_naming_the_line(
    nginx: Nginx, tmp_path: Path
) -> None:
    """The deploy broke a link: nginx's error log has an `[error] open() ... failed` line
    written after the deploy started: ROLLBACK, the message shows the line."""
    envs = tmp_path / "environments"
    write_env(
        envs, "nginx", NGINX_ENV.format(url=nginx.base_url, error_log=nginx.prefix / "error.log")
    )
    _deploy(envs, tmp_path / "reports", nginx.base_url, "/missing-after-deploy.png")

    run, decided = _post_deploy(envs, "nginx", tmp_path / "reports", "broken")

    assert decided.returncode == 1, run.output + decided.stdout
    check = run.check("test_log[no new errors in nginx's error log]")
    assert check.outcome == "failed"
    assert "missing-after-deploy.png" in check.message
    assert "1 of" in check.message


def test_a_json_field_that_is_gone_is_hold_not_go(nginx: Nginx, tmp_path: Path) -> None:
    """The field the metric reads is not in the answer: no data, twice: HOLD, never GO."""
    envs = tmp_path / "environments"
    text = NGINX_ENV.format(url=nginx.base_url, error_log=nginx.prefix / "error.log")
    write_env(envs, "nginx", text.replace("$.status", "$.health"))

    run, decided = _post_deploy(envs, "nginx", tmp_path / "reports", "no-data")

    assert decided.returncode == 2, run.output + decided.stdout
    check = run.check("test_metric[status ok]")
    assert check.outcome == "error"
    assert "no data" in check.message
    assert [m.outcome for m in check.measurements] == ["inconclusive"]


# the mean time of the slowest statement the "application" ran (psql's own are left out)
SLOWEST = (
    "SELECT coalesce(max(mean_exec_time), 0) FROM pg_stat_statements"
    " WHERE query NOT LIKE '%pg_stat_statements%'"
)
PG_ENV = """
[target]
base_url = "{url}"
read_only = true
health_path = ""
version_path = ""

[[metrics]]
name = "slow queries"
stage = "post_deploy"
provider = "command"
command = ["{psql}", "-XAt", "-h", "127.0.0.1", "-p", "{port}", "-U", "{user}", "-d", "{db}",
           "-c", "{sql}"]
success = "result < 100"
unit = "ms"
"""


def _psql() -> str:
    bin_dir = postgres_bin()
    found = (bin_dir / "psql") if bin_dir is not None else None
    if found is not None and found.exists():
        return str(found)
    return _require(shutil.which("psql"), "psql", "postgresql-client")


@pytest.fixture
def slow_queries_env(
    postgres_cluster: PostgresServer, fresh_database: str, tmp_path: Path
) -> Iterator[tuple[Path, Any]]:
    """A database with pg_stat_statements, counts reset, and an environment whose "slow
    queries" metric reads it with psql."""
    import psycopg

    url = fresh_database
    name = url.rsplit("/", 1)[1]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    connection = psycopg.connect(dsn, autocommit=True)
    connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    connection.execute("SELECT pg_stat_statements_reset()")
    canary = WebhookReceiver()
    envs = tmp_path / "environments"
    text = PG_ENV.format(
        url=canary.base,
        psql=_psql(),
        port=postgres_cluster.port,
        user=postgres_cluster.user,
        db=name,
        sql=SLOWEST,
    )
    write_env(envs, "pg", text)
    try:
        yield envs, connection
    finally:
        connection.close()
        canary.close()


def test_fast_queries_pass_the_slow_queries_metric(
    slow_queries_env: tuple[Path, Any], tmp_path: Path
) -> None:
    envs, connection = slow_queries_env
    for _ in range(5):
        connection.execute("SELECT count(*) FROM pg_class")

    run, decided = _post_deploy(envs, "pg", tmp_path / "reports", "fast")

    assert decided.returncode == 0, run.output + decided.stdout
    value = run.check("test_metric[slow queries]").measurements[0].value
    assert isinstance(value, float)
    assert value < 100


def test_a_slow_statement_fails_the_slow_queries_metric(
    slow_queries_env: tuple[Path, Any], tmp_path: Path
) -> None:
    """A release whose query takes 300 ms on average: pg_stat_statements shows it, ROLLBACK
    with the measured mean and the condition."""
    envs, connection = slow_queries_env
    for _ in range(2):
        connection.execute("SELECT pg_sleep(0.3)")

    run, decided = _post_deploy(envs, "pg", tmp_path / "reports", "slow")

    assert decided.returncode == 1, run.output + decided.stdout
    check = run.check("test_metric[slow queries]")
    assert check.outcome == "failed"
    assert "`result < 100` does not hold" in check.message
    assert float(check.measurements[0].value or 0) >= 300
    decision = json.loads((run.run_dir / "decision.json").read_text())
    assert decision["verdict"] == "ROLLBACK"
