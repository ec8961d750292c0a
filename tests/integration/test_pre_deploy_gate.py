"""The pre-deploy gate against a real PostgreSQL, real TLS servers and a real source tree:
a healthy setup passes every check; each fault fails (or holds) the check that exists for it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from releasegate.config import load_environment
from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from releasegate.slo.baseline import find_baseline
from releasegate.slo.synthetic import BASELINE_FILE, read_samples
from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import GateRun, RunGate, StartService, write_env
from tests.integration.test_database_checks import BROKEN, EXAMPLE, execute, pg_dump, upgrade
from tests.tls_server import tls_server, unused_port

pytest_plugins = ["tests.integration.pg_cluster"]

TOKEN = "pre-deploy-token-5b1f"
PLANTED = "AKIAZ4QXKW3N7PLT2VDE"  # pragma: allowlist secret
DB_PASSWORD = "db-pass-91c4e7"  # pragma: allowlist secret
REQUIRED_VALUE = "required-value-3e8d"

ENV = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer ${{PRE_DEPLOY_TOKEN}}" }}
required_env = ["PRE_DEPLOY_TOKEN", "PAYMENT_KEY"]

[[endpoints]]
path = "/api/version"

[slo.synthetic]
requests = 60
concurrency = 2
rate = 100
duration = "10s"

[secret_scan]
root = "app"

[tls]
hosts = ["127.0.0.1:{tls_port}"]
ca_file = "ca.pem"

[database]
url = "{db_url}"
query_max = "2s"

[database.migrations]
alembic = "{migrations}"
reversible = true

[database.backup]
glob = "backups/*.dump"
sanity = [{{ name = "tickets", sql = "SELECT count(*) FROM tickets", min = 5 }}]
"""


@dataclass
class Setup:
    root: Path
    db_url: str
    ca: trustme.CA


@pytest.fixture
def setup(tmp_path: Path, fresh_database: str) -> Setup:
    """A repository (tmp_path) with a clean source tree, a database at head with rows, and last
    night's backup of it."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("import os\nKEY = os.environ['PAYMENT_KEY']\n")
    upgrade(fresh_database, "head")
    execute(
        fresh_database,
        "INSERT INTO tickets (title) SELECT 'ticket ' || n FROM generate_series(1, 10) AS n",
    )
    (tmp_path / "backups").mkdir()
    pg_dump(fresh_database, tmp_path / "backups" / "nightly.dump", "-Fc")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return Setup(tmp_path, fresh_database, ca)


def run_pre_deploy(
    run_gate: RunGate, setup: Setup, url: str, tls_port: int, db_url: str | None = None
) -> GateRun:
    envs = setup.root / "environments"
    text = ENV.format(
        url=url, tls_port=tls_port, db_url=db_url or setup.db_url, migrations=EXAMPLE.as_posix()
    )
    write_env(envs, "staging", text)
    return run_gate(
        "--env",
        "staging",
        marker="pre_deploy",
        env_vars={
            "RELEASEGATE_ENV_DIR": str(envs),
            "PRE_DEPLOY_TOKEN": TOKEN,
            "PAYMENT_KEY": REQUIRED_VALUE,
        },
    )


def leaf(setup: Setup, days: float) -> trustme.LeafCert:
    return setup.ca.issue_cert("127.0.0.1", not_after=datetime.now(UTC) + timedelta(days=days))


def every_text_file(run: GateRun) -> str:
    return "\n".join(p.read_text(errors="replace") for p in run.run_dir.rglob("*") if p.is_file())


def test_a_healthy_setup_passes_every_pre_deploy_check(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, setup: Setup
) -> None:
    service = healthy_service
    with tls_server(leaf(setup, 90)) as port:
        run = run_pre_deploy(run_gate, setup, service.base_url, port)

    outcomes = run.outcomes()
    loads_only = "test_database.py::test_newest_backup_loads_no_sanity_query_configured"
    assert outcomes.pop(loads_only) == "skipped"  # sanity queries are configured
    assert set(outcomes.values()) == {"passed"}, run.output
    assert decide(run.results).verdict is Verdict.GO
    days = run.check(f"test_certificate_expires_after_min_days[127.0.0.1:{port}]")
    assert 89 < float(days.measurements[0].value or 0) <= 90
    restore = run.check("test_newest_backup_restores_and_passes_sanity_queries")
    assert {m.name for m in restore.measurements} >= {"restore time", "tickets"}
    baseline = read_samples(run.run_dir / BASELINE_FILE)
    assert len(baseline.latencies()) == 60
    assert REQUIRED_VALUE not in every_text_file(run)


def test_each_fault_fails_its_own_check_with_a_precise_message(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, setup: Setup, fresh_database: str
) -> None:
    """A planted AWS key, a certificate expiring in 3 days, a pending migration, a backup two
    days old and corrupt, a required variable missing: five failures, each one named."""
    (setup.root / "app" / "settings.py").write_text(f'\n\nAWS_KEY = "{PLANTED}"\n')
    execute(setup.db_url, "UPDATE alembic_version SET version_num = '0002'")
    backup = setup.root / "backups" / "nightly.dump"
    backup.write_bytes(backup.read_bytes()[:200])  # truncated: pg_restore cannot read it
    two_days_ago = time.time() - 2 * 86400
    os.utime(backup, (two_days_ago, two_days_ago))
    envs = setup.root / "environments"
    with tls_server(leaf(setup, 3)) as port:
        text = ENV.format(
            url=healthy_service.base_url,
            tls_port=port,
            db_url=setup.db_url,
            migrations=EXAMPLE.as_posix(),
        )
        write_env(envs, "staging", text)
        run = run_gate(
            "--env",
            "staging",
            marker="pre_deploy",
            env_vars={"RELEASEGATE_ENV_DIR": str(envs), "PRE_DEPLOY_TOKEN": TOKEN},
        )

    problems = run.problems()
    secret = problems["test_secrets.py::test_no_secret_is_committed"]
    assert "settings.py:3 (AWS Access Key)" in secret
    tls = problems[f"test_tls.py::test_certificate_expires_after_min_days[127.0.0.1:{port}]"]
    assert "in 3.0 days" in tls or "in 2.9 days" in tls, tls
    assert "more than 14 required" in tls
    migration = problems["test_database.py::test_schema_is_at_the_expected_migration"]
    assert "schema at 0002, expected 0003" in migration
    assert "1 pending: 0003" in migration
    assert "older than 24 h" in problems["test_database.py::test_newest_backup_is_fresh"]
    restore = problems["test_database.py::test_newest_backup_restores_and_passes_sanity_queries"]
    assert "does not restore" in restore
    missing = problems["test_readiness.py::test_required_environment_variables_are_set"]
    assert "PAYMENT_KEY" in missing
    assert "PRE_DEPLOY_TOKEN" not in missing
    assert decide(run.results).verdict is Verdict.ROLLBACK
    assert PLANTED not in every_text_file(run) + run.output
    assert "test_target_is_healthy_before_the_deploy" not in " ".join(problems)


def test_an_unhealthy_target_and_an_unreachable_database_hold(
    run_gate: RunGate, start_service: StartService, setup: Setup
) -> None:
    """Deploying onto a target that reports itself down is HOLD; so is a database the gate
    cannot reach (it could not measure), and the password is never shown."""
    service = start_service("health=down")
    port = unused_port()
    db_url = f"postgresql://releasegate:{DB_PASSWORD}@127.0.0.1:{port}/app"
    with tls_server(leaf(setup, 90)) as tls_port:
        run = run_pre_deploy(run_gate, setup, service.base_url, tls_port, db_url=db_url)

    health = run.check("test_target_is_healthy_before_the_deploy")
    assert health.outcome == "error", run.output
    assert "a deploy onto an unhealthy target is HOLD" in health.message
    database = run.check("test_database_answers_a_query_in_time")
    assert database.outcome == "error", run.output
    assert f"127.0.0.1:{port}" in database.message
    assert decide(run.results).verdict is Verdict.HOLD
    assert DB_PASSWORD not in every_text_file(run) + run.output


def test_the_slo_gate_finds_the_baseline_the_pre_deploy_gate_took(
    run_gate: RunGate,
    healthy_service: ReferenceServiceProcess,
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tls_server(leaf(setup, 90)) as port:
        run = run_pre_deploy(run_gate, setup, healthy_service.base_url, port)
    monkeypatch.setenv("RELEASEGATE_ENV_DIR", str(setup.root / "environments"))
    monkeypatch.setenv("PRE_DEPLOY_TOKEN", TOKEN)
    env = load_environment("staging")

    assert find_baseline(env, tmp_path / "reports") == run.run_dir / BASELINE_FILE


# What the database checks classify as a finding (failed: ROLLBACK) and as the gate's own
# tooling failing (error: HOLD), in a real gate run against a real PostgreSQL.

DATABASE_ONLY = """
[target]
base_url = "http://127.0.0.1:9"

[database]
url = "{db_url}"
query_max = "2s"

[database.migrations]
alembic = "{migrations}"
reversible = true

[database.backup]
glob = "{glob}"
{backup_keys}
"""
TICKETS_SANITY = 'sanity = [{ name = "tickets", sql = "SELECT count(*) FROM tickets", min = %d }]'


def run_database_checks(
    run_gate: RunGate,
    setup: Setup,
    *,
    glob: str = "backups/*.dump",
    backup_keys: str = TICKETS_SANITY % 5,
    migrations: str = EXAMPLE.as_posix(),
) -> GateRun:
    """The pre-deploy database checks only (`-k database`: no target, TLS or secret scan)."""
    envs = setup.root / "environments"
    text = DATABASE_ONLY.format(
        db_url=setup.db_url, migrations=migrations, glob=glob, backup_keys=backup_keys
    )
    write_env(envs, "staging", text)
    return run_gate(
        "--env",
        "staging",
        "-k",
        "test_database",
        marker="pre_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )


def test_a_missing_restore_tool_holds_the_restore_check(run_gate: RunGate, setup: Setup) -> None:
    """`pg_bin` naming a folder without pg_restore: the gate could not restore, an error
    saying where it looked (HOLD), never a failed check; the freshness check still passes."""
    (setup.root / "no-tools").mkdir()

    run = run_database_checks(
        run_gate, setup, backup_keys=TICKETS_SANITY % 5 + '\npg_bin = "no-tools"'
    )

    restore = run.check("test_newest_backup_restores_and_passes_sanity_queries")
    assert restore.outcome == "error", run.output
    assert "pg_restore not found in" in restore.message
    assert "no-tools" in restore.message
    assert run.check("test_newest_backup_is_fresh").outcome == "passed"
    assert decide(run.results).verdict is Verdict.HOLD


def test_no_backup_at_all_fails_both_backup_checks(run_gate: RunGate, setup: Setup) -> None:
    """A glob that matches nothing: the backup was not taken, a finding of each backup check
    in its call phase (failed: ROLLBACK), not a setup error."""
    run = run_database_checks(run_gate, setup, glob="backups/*.missing")

    for name in (
        "test_newest_backup_is_fresh",
        "test_newest_backup_restores_and_passes_sanity_queries",
    ):
        check = run.check(name)
        assert check.outcome == "failed", run.output
        assert "no backup matches 'backups/*.missing'" in check.message
        assert "env=staging" in check.message
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_a_sanity_query_below_its_minimum_fails_the_restore_check(
    run_gate: RunGate, setup: Setup
) -> None:
    """The backup restores but holds 10 tickets where 1000 are the minimum: failed, with the
    value and the threshold."""
    run = run_database_checks(run_gate, setup, backup_keys=TICKETS_SANITY % 1000)

    restore = run.check("test_newest_backup_restores_and_passes_sanity_queries")
    assert restore.outcome == "failed", run.output
    assert "tickets: 10 is below the minimum 1000" in restore.message
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_a_restore_without_sanity_queries_says_it_proves_only_that_the_backup_loads(
    run_gate: RunGate, setup: Setup
) -> None:
    """No sanity query: the check that runs is named for what it proves; the sanity check is
    skipped saying why."""
    run = run_database_checks(run_gate, setup, backup_keys="")

    loads = run.check("test_newest_backup_loads_no_sanity_query_configured")
    assert loads.outcome == "passed", run.output
    assert {m.name for m in loads.measurements} == {"restore time", "sanity queries"}
    sanity = run.check("test_newest_backup_restores_and_passes_sanity_queries")
    assert sanity.outcome == "skipped"
    assert "no [database.backup] sanity query" in sanity.message
    assert decide(run.results).verdict is Verdict.GO


def test_an_alembic_folder_that_does_not_exist_holds_both_migration_checks(
    run_gate: RunGate, setup: Setup
) -> None:
    """`[database.migrations] alembic` naming nothing: both migration checks could not
    measure (error: HOLD), the same way, never ROLLBACK."""
    run = run_database_checks(run_gate, setup, migrations="no-such-migrations")

    for name in ("test_schema_is_at_the_expected_migration", "test_migrations_are_reversible"):
        check = run.check(name)
        assert check.outcome == "error", run.output
        assert "no-such-migrations: not an alembic script directory" in check.message
    assert decide(run.results).verdict is Verdict.HOLD


def test_an_irreversible_migration_fails_the_reversibility_check(
    run_gate: RunGate, setup: Setup
) -> None:
    """A downgrade that raises is a finding about the release: failed, naming the step."""
    run = run_database_checks(run_gate, setup, migrations=BROKEN.as_posix())

    check = run.check("test_migrations_are_reversible")
    assert check.outcome == "failed", run.output
    assert "downgrade of 0004 (rename title to subject) failed" in check.message
