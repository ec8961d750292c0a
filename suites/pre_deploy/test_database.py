"""Pre-deploy: the database answers, its schema is where the release expects it, migrations can
be undone, and last night's backup exists and restores.

The gate connects to `[database] url` itself. When that connection fails the gate could not
measure (HOLD); the target's own view of its database is its health endpoint, judged by
test_target_is_healthy_before_the_deploy and by the smoke gate."""

from pathlib import Path

import pytest

from releasegate.checks.backups import (
    Backup,
    RestoreResult,
    SanityQuery,
    backup_from_command,
    newest_backup,
    restore_and_check,
)
from releasegate.checks.database import ping, safe_url
from releasegate.checks.migrations import (
    alembic_status,
    check_reversible,
    judge_at_head,
    version_query_status,
)
from releasegate.config import BackupConfig, DatabaseConfig, Environment
from releasegate.errors import (
    BackupError,
    CheckFailed,
    EvidenceMissing,
    MigrationFailed,
    MigrationsUnreadable,
    NoBackupFound,
)
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_database_answers_a_query_in_time(
    database: DatabaseConfig, env: Environment, expect: Expect
) -> None:
    """The database answers a query in time.

    `[database] query` (SELECT 1) answers within `query_max` (default 200 ms)."""
    result = ping(database.url, query=database.query, timeout_s=database.timeout)
    limit_ms = database.query_max * 1000

    expect(
        "query latency",
        result.latency_ms,
        "<=",
        limit_ms,
        unit="ms",
        context=f"env={env.name}",
        message=f"{safe_url(database.url)}: {database.query!r} took {result.latency_ms:.1f} ms,"
        f" over {limit_ms:g} ms ([database] query_max)",
    )


def test_schema_is_at_the_expected_migration(
    database: DatabaseConfig, env: Environment, measure: Measure, expect: Expect
) -> None:
    """The database schema is at the expected version.

    The schema is at alembic's head (or `expected_version`); pending migrations are named."""
    migrations = database.migrations
    if migrations is None:
        pytest.skip(f"no [database.migrations] for env={env.name}")
    try:
        if migrations.alembic is not None:
            status = alembic_status(database.url, env.repository_path(migrations.alembic))
        else:
            expected = migrations.expected_version or ""  # the model requires both
            status = version_query_status(database.url, migrations.version_query or "", expected)
    except MigrationsUnreadable as exc:  # the gate could not read them: not measured
        raise EvidenceMissing(f"[database.migrations] in {env.path}: {exc}") from None
    judged = judge_at_head(status, safe_url(database.url))
    measure("schema version", judged.measured, threshold=judged.limit, comparison="==")
    measure("pending migrations", len(status.pending), threshold=0, comparison="<=")

    expect.judged(judged, context=f"env={env.name}")


def test_migrations_are_reversible(
    database: DatabaseConfig, env: Environment, measure: Measure
) -> None:
    """The database changes of this release can be undone.

    On a scratch database: upgrade to head, downgrade one step, upgrade again."""
    migrations = database.migrations
    if migrations is None or not migrations.reversible or migrations.alembic is None:
        pytest.skip(f"[database.migrations] reversible is not set for env={env.name}")
    try:
        steps = check_reversible(database.url, env.repository_path(migrations.alembic))
    except MigrationsUnreadable as exc:  # the gate could not run them: not measured
        raise EvidenceMissing(f"[database.migrations] in {env.path}: {exc}") from None
    except MigrationFailed as exc:  # a step of the release's migrations failed: a finding
        raise CheckFailed(f"migrations are not reversible: {exc} (env={env.name})") from None
    for step in steps:
        measure(f"{step.action} {step.revision}", round(step.seconds, 3), unit="s")


@pytest.fixture(scope="module")
def backup_config(database: DatabaseConfig, env: Environment) -> BackupConfig:
    if database.backup is None:
        pytest.skip(f"no [database.backup] for env={env.name}")
    return database.backup


@pytest.fixture(scope="module")
def backup(backup_config: BackupConfig, env: Environment) -> Backup | NoBackupFound:
    """The newest backup: by the glob's newest file, or as the command reports it; or why
    there is none, which each check raises itself (no backup is a failed check, not a setup
    error). A command that cannot tell raises `BackupToolError`: not measured."""
    if backup_config.glob is None:
        return backup_from_command(backup_config.command or "")
    try:
        return newest_backup(backup_config.glob, base=env.repository)
    except NoBackupFound as exc:
        return exc


def found(backup: Backup | NoBackupFound, env: Environment) -> Backup:
    """The backup, or a failed check: no backup at all means the checklist item was not done."""
    __tracebackhide__ = True
    if isinstance(backup, NoBackupFound):
        raise CheckFailed(f"{backup} ([database.backup] glob) (env={env.name})", measured=0)
    return backup


def test_newest_backup_is_fresh(
    backup: Backup | NoBackupFound,
    backup_config: BackupConfig,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """The newest database backup is recent.

    The newest backup is younger than `[database.backup] max_age` (default 24 h)."""
    backup = found(backup, env)
    max_hours = backup_config.max_age / 3600
    age = backup.age_hours()
    if backup.size_bytes is not None:
        measure("backup size", backup.size_bytes, unit="B")
    where = backup.path or "the backup command"

    expect(
        "backup age",
        age,
        "<=",
        max_hours,
        unit="h",
        context=f"env={env.name}",
        message=f"{where}: the newest backup was taken {backup.taken_at:%Y-%m-%d %H:%M} UTC,"
        f" {age:.1f} h ago, older than {max_hours:g} h ([database.backup] max_age)",
    )


def restored(
    backup: Backup | NoBackupFound,
    config: BackupConfig,
    database: DatabaseConfig,
    env: Environment,
    measure: Measure,
) -> tuple[Path, RestoreResult]:
    """Restore the newest backup into a scratch database and run the sanity queries. A backup
    that does not restore fails the check; the gate's own tools failing raise
    `BackupToolError` (missing evidence)."""
    __tracebackhide__ = True
    path = found(backup, env).path
    if path is None:  # the model refuses restore with a command, which reports no file
        pytest.skip(f"[database.backup] command reports no file to restore (env={env.name})")
    queries = [SanityQuery(q.name, q.sql, q.min, q.max, q.equals) for q in config.sanity]
    pg_bin = env.repository_path(config.pg_bin) if config.pg_bin else None
    try:
        result = restore_and_check(
            database.url, path, queries, pg_bin=pg_bin, timeout_s=config.restore_timeout
        )
    except BackupError as exc:
        raise CheckFailed(
            f"{path}: the backup does not restore: {exc} (env={env.name})", measured=str(exc)
        ) from None
    measure("restore time", round(result.seconds, 3), unit="s")
    return path, result


def test_newest_backup_restores_and_passes_sanity_queries(
    backup: Backup | NoBackupFound,
    backup_config: BackupConfig,
    database: DatabaseConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """The newest database backup restores, and its data passes the sanity checks.

    Restored into a scratch database on the same server, the sanity queries hold; the
    scratch database is dropped afterwards."""
    if not backup_config.restore:
        pytest.skip(f"[database.backup] restore = false for env={env.name}")
    if not backup_config.sanity:
        pytest.skip(
            f"no [database.backup] sanity query for env={env.name}:"
            " test_newest_backup_loads_no_sanity_query_configured restores it, no more"
        )
    path, result = restored(backup, backup_config, database, env, measure)
    for sane in result.sanity:
        limit = sane.query.equals or sane.query.min if sane.query.max is None else sane.query.max
        measure(sane.query.name, sane.value, threshold=limit)

    wrong = [s.message for s in result.sanity if not s.ok]
    assert not wrong, (
        f"{path} restored in {result.seconds:.1f}s, but {len(wrong)} sanity queries"
        f" failed: {'; '.join(wrong)} (env={env.name})"
    )


def test_newest_backup_loads_no_sanity_query_configured(
    backup: Backup | NoBackupFound,
    backup_config: BackupConfig,
    database: DatabaseConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """The newest database backup restores.

    The backup loads (no sanity query configured): it restores into a scratch database,
    which proves the dump is readable, not that its data is right."""
    if not backup_config.restore:
        pytest.skip(f"[database.backup] restore = false for env={env.name}")
    if backup_config.sanity:
        pytest.skip(
            "[database.backup] sanity queries are configured:"
            " test_newest_backup_restores_and_passes_sanity_queries checks the data too"
        )
    # restoring is the whole check: a backup that does not load raises CheckFailed
    restored(backup, backup_config, database, env, measure)
    measure("sanity queries", 0)
