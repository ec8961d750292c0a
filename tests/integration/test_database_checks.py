"""The pre-deploy database checks against a real PostgreSQL server: ping, migrations, backups."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config

from releasegate.checks.backups import (
    SanityQuery,
    backup_from_command,
    newest_backup,
    restore_and_check,
)
from releasegate.checks.database import libpq_url, ping, scratch_database
from releasegate.checks.migrations import (
    Revision,
    alembic_status,
    check_reversible,
    version_query_status,
)
from releasegate.errors import (
    BackupError,
    BackupToolError,
    DatabaseUnreachable,
    EvidenceMissing,
    MigrationFailed,
    MigrationsUnreadable,
    NoBackupFound,
)
from tests.integration.pg_cluster import PostgresServer, postgres_bin

pytest_plugins = ["tests.integration.pg_cluster"]

EXAMPLE = Path(__file__).parent / "migrations_example"
BROKEN = EXAMPLE / "broken_downgrade.ini"
ROWS = 25
ROW_COUNT = SanityQuery(name="tickets", sql="SELECT count(*) FROM tickets", min=ROWS)


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement.encode())


def scratch_databases(cluster: PostgresServer) -> list[str]:
    """Databases a scratch_database() made and did not drop."""
    with psycopg.connect(libpq_url(cluster.url()), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'releasegate\\_%'"
            " AND datname NOT LIKE 'releasegate\\_test\\_%'"
        ).fetchall()
    return [name for (name,) in rows]


def upgrade(url: str, revision: str) -> None:
    """Migrate as a deploy would, with alembic's own command (env.py reads sqlalchemy.url)."""
    config = Config()
    config.set_main_option("script_location", str(EXAMPLE))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, revision)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def tickets_database(fresh_database: str) -> str:
    """A database with a tickets table of ROWS rows, to dump."""
    execute(
        fresh_database,
        "CREATE TABLE tickets (id serial PRIMARY KEY, title text NOT NULL, done boolean)",
        "INSERT INTO tickets (title, done) SELECT 'ticket ' || n, n % 2 = 0 "
        "FROM generate_series(1, 25) AS n",  # ROWS
    )
    return fresh_database


def pg_dump(url: str, target: Path, *options: str) -> Path:
    bin_dir = postgres_bin()
    assert bin_dir is not None
    subprocess.run(
        [str(bin_dir / "pg_dump"), *options, "-f", str(target), "-d", libpq_url(url)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target


# ping


def test_ping_reports_latency_and_server_version(fresh_database: str) -> None:
    """A SELECT 1 round trip is timed in milliseconds and the server's version is reported."""
    result = ping(fresh_database)

    assert 0 < result.latency_ms < 1000
    assert result.server_version.split(".")[0].isdigit()


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    """A closed port gives DatabaseUnreachable naming the URL with *** for the password, the
    driver's reason and what to check."""
    port = free_port()
    url = f"postgresql+psycopg://app:pw-Xy7-secret@127.0.0.1:{port}/app"

    with pytest.raises(DatabaseUnreachable) as caught:
        ping(url, timeout_s=2)

    message = str(caught.value)
    assert "pw-Xy7-secret" not in message
    assert f"postgresql+psycopg://app:***@127.0.0.1:{port}/app" in message
    assert "refused" in message.lower()
    assert "check the host and port" in message


def test_a_failing_ping_query_names_the_query(fresh_database: str) -> None:
    """A query that errors is reported with the query and the server's reason."""
    with pytest.raises(DatabaseUnreachable, match="no_such_table"):
        ping(fresh_database, query="SELECT * FROM no_such_table")


# scratch databases


def test_a_scratch_database_exists_only_inside_its_block(
    postgres_cluster: PostgresServer, fresh_database: str
) -> None:
    """Created on entry on the same server, dropped on exit: also when the block raises with a
    session still open in it."""
    seen: dict[str, object] = {}

    def failing_check() -> None:
        with scratch_database(fresh_database) as scratch:
            seen["url"], seen["inside"] = scratch, scratch_databases(postgres_cluster)
            seen["held"] = held = psycopg.connect(libpq_url(scratch), autocommit=True)
            held.execute("CREATE TABLE leftover (id int)")
            raise RuntimeError("the check failed")

    with pytest.raises(RuntimeError):
        failing_check()
    held = seen["held"]
    assert isinstance(held, psycopg.Connection)
    held.close()
    scratch = str(seen["url"])

    assert seen["inside"] == [scratch.rsplit("/", 1)[1]]
    assert scratch.startswith(fresh_database.rsplit("/", 1)[0] + "/releasegate_scratch_")
    assert scratch_databases(postgres_cluster) == []


# alembic status


def test_a_migrated_database_is_at_head(fresh_database: str) -> None:
    """After `upgrade head` the database's revision is the script directory's head."""
    upgrade(fresh_database, "head")

    status = alembic_status(fresh_database, EXAMPLE)

    assert status.at_head
    assert status.current == ("0003",)
    assert status.heads == ("0003",)
    assert status.pending == ()


def test_an_unapplied_revision_is_pending_with_its_message(fresh_database: str) -> None:
    """With two of three revisions applied, the third is pending and named with its message."""
    upgrade(fresh_database, "0002")

    status = alembic_status(fresh_database, EXAMPLE)

    assert not status.at_head
    assert status.current == ("0002",)
    assert status.pending == (Revision(id="0003", message="index tickets by priority"),)


def test_a_new_database_has_every_revision_pending_in_order(fresh_database: str) -> None:
    """No alembic_version table: all revisions pending, oldest first."""
    status = alembic_status(fresh_database, EXAMPLE)

    assert status.current == ()
    assert [r.id for r in status.pending] == ["0001", "0002", "0003"]


def test_an_alembic_ini_naming_extra_version_locations_is_read(fresh_database: str) -> None:
    """An alembic.ini is followed to its script_location and version_locations."""
    upgrade(fresh_database, "head")

    status = alembic_status(fresh_database, BROKEN)

    assert status.heads == ("0004",)
    assert [r.id for r in status.pending] == ["0004"]


def test_a_revision_the_scripts_do_not_know_is_an_error(fresh_database: str) -> None:
    """A database migrated by a newer release (or scripts of another project) cannot be
    placed: the gate cannot compare, MigrationsUnreadable names the revision."""
    upgrade(fresh_database, "head")
    execute(fresh_database, "UPDATE alembic_version SET version_num = 'ffff9999'")

    with pytest.raises(MigrationsUnreadable, match="ffff9999"):
        alembic_status(fresh_database, EXAMPLE)


@pytest.mark.parametrize(
    ("contents", "expected"),
    [
        pytest.param(None, "not an alembic script directory", id="missing-path"),
        pytest.param(
            "[alembic]\nsqlalchemy.url = x\n", r"\[alembic\] has no script_location", id="no-key"
        ),
    ],
)
def test_a_bad_script_location_names_the_file_and_key(
    fresh_database: str, tmp_path: Path, contents: str | None, expected: str
) -> None:
    """A missing path or an alembic.ini without script_location: the gate's own configuration
    is wrong, missing evidence (never a failed check) naming the file and key."""
    location = tmp_path / "alembic.ini"
    if contents is not None:
        location.write_text(contents)

    with pytest.raises(MigrationsUnreadable, match=expected) as caught:
        alembic_status(fresh_database, location)

    assert str(location) in str(caught.value)
    assert isinstance(caught.value, EvidenceMissing)
    assert not isinstance(caught.value, AssertionError)


# version query


def test_version_query_status_compares_the_reported_version(fresh_database: str) -> None:
    """The query's value is the current version; pending is empty only when it is expected."""
    execute(
        fresh_database,
        "CREATE TABLE schema_version (version text, applied_at timestamptz DEFAULT now())",
        "INSERT INTO schema_version (version) VALUES ('41'), ('42')",
    )
    query = "SELECT max(version) FROM schema_version"

    same = version_query_status(fresh_database, query, "42")
    behind = version_query_status(fresh_database, query, "43")

    assert same.at_head
    assert same.pending == ()
    assert not behind.at_head
    assert behind.current == ("42",)
    assert [r.id for r in behind.pending] == ["43"]


def test_a_version_query_returning_several_rows_is_an_error(fresh_database: str) -> None:
    """A query that does not return one value cannot say which version is current."""
    with pytest.raises(MigrationsUnreadable, match="returned 2 row"):
        version_query_status(fresh_database, "SELECT * FROM (VALUES ('1'), ('2')) AS v", "2")


# reversibility


def test_reversible_migrations_pass_and_leave_no_scratch_database(
    postgres_cluster: PostgresServer, fresh_database: str
) -> None:
    """Each revision is upgraded, the newest downgraded and upgraded again, each timed; the
    scratch database is dropped and the target database is untouched."""
    steps = check_reversible(fresh_database, EXAMPLE)

    assert [(s.action, s.revision) for s in steps] == [
        ("upgrade", "0001"),
        ("upgrade", "0002"),
        ("upgrade", "0003"),
        ("downgrade", "0003"),
        ("upgrade", "0003"),
    ]
    assert all(s.seconds > 0 for s in steps)
    assert scratch_databases(postgres_cluster) == []
    assert alembic_status(fresh_database, EXAMPLE).current == ()


def test_a_failing_downgrade_names_the_step_and_revision(
    postgres_cluster: PostgresServer, fresh_database: str
) -> None:
    """0004's downgrade names a column that does not exist: the error says which step of which
    revision failed and why, and the scratch database is still dropped. A finding about the
    release, not missing evidence."""
    with pytest.raises(MigrationFailed) as caught:
        check_reversible(fresh_database, BROKEN)

    message = str(caught.value)
    assert not isinstance(caught.value, EvidenceMissing)
    assert message.startswith("downgrade of 0004 (rename title to subject) failed")
    assert 'column "headline" does not exist' in message
    assert scratch_databases(postgres_cluster) == []


# restore


@pytest.mark.parametrize(
    ("name", "options"),
    [
        pytest.param("dump.custom", ["-Fc"], id="custom"),
        pytest.param("dump.sql", ["-Fp"], id="plain"),
        pytest.param("dump.tar", ["-Ft"], id="tar"),
        pytest.param("dump.dir", ["-Fd"], id="directory"),
    ],
)
def test_a_real_dump_restores_and_passes_its_sanity_queries(
    postgres_cluster: PostgresServer,
    tickets_database: str,
    tmp_path: Path,
    name: str,
    options: list[str],
) -> None:
    """pg_dump's output in each format restores into a scratch database, where the row count
    and a boolean check pass; the scratch database is dropped afterwards."""
    backup = pg_dump(tickets_database, tmp_path / name, *options)
    any_done = SanityQuery(name="any done", sql="SELECT bool_or(done) FROM tickets", equals="t")

    result = restore_and_check(tickets_database, backup, [ROW_COUNT, any_done])

    assert result.ok, [r.message for r in result.sanity]
    assert [r.value for r in result.sanity] == [str(ROWS), "t"]
    assert result.seconds > 0
    assert scratch_databases(postgres_cluster) == []


@pytest.mark.parametrize(
    ("name", "option"),
    [pytest.param("dump.sql", "-Fp", id="plain"), pytest.param("dump.custom", "-Fc", id="custom")],
)
def test_a_gzipped_dump_restores(
    tickets_database: str, tmp_path: Path, name: str, option: str
) -> None:
    """A .gz is told by its content and unzipped on the way into psql or pg_restore."""
    dump = pg_dump(tickets_database, tmp_path / name, option)
    zipped = tmp_path / f"{name}.gz"
    with dump.open("rb") as source, gzip.open(zipped, "wb") as target:
        shutil.copyfileobj(source, target)

    result = restore_and_check(tickets_database, zipped, [ROW_COUNT])

    assert result.ok, [r.message for r in result.sanity]


def test_a_failing_sanity_query_is_reported_with_its_value(
    tickets_database: str, tmp_path: Path
) -> None:
    """One query below its minimum fails with the value it got; the others still pass."""
    backup = pg_dump(tickets_database, tmp_path / "dump.custom", "-Fc")
    too_many = SanityQuery(name="1000 tickets", sql="SELECT count(*) FROM tickets", min=1000)

    result = restore_and_check(tickets_database, backup, [ROW_COUNT, too_many])

    assert not result.ok
    assert [r.ok for r in result.sanity] == [True, False]
    assert result.sanity[1].value == str(ROWS)
    assert result.sanity[1].message == f"1000 tickets: {ROWS} is below the minimum 1000"


def test_a_truncated_dump_fails_to_restore_and_leaves_no_scratch_database(
    postgres_cluster: PostgresServer, tickets_database: str, tmp_path: Path
) -> None:
    """A custom-format dump cut short is a BackupError carrying pg_restore's complaint."""
    backup = pg_dump(tickets_database, tmp_path / "dump.custom", "-Fc")
    backup.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])

    with pytest.raises(
        BackupError, match=r"dump.custom does not restore: pg_restore exited 1: pg_restore: error: "
    ):
        restore_and_check(tickets_database, backup, [ROW_COUNT])

    assert scratch_databases(postgres_cluster) == []


def test_a_missing_restore_tool_is_missing_evidence_not_a_bad_backup(
    postgres_cluster: PostgresServer, tickets_database: str, tmp_path: Path
) -> None:
    """pg_bin naming a folder without pg_restore: BackupToolError (HOLD) saying where it
    looked and what to set; the scratch database is still dropped."""
    backup = pg_dump(tickets_database, tmp_path / "dump.custom", "-Fc")
    empty = tmp_path / "no-tools"
    empty.mkdir()

    with pytest.raises(BackupToolError, match=r"pg_restore not found in .*no-tools") as caught:
        restore_and_check(tickets_database, backup, [ROW_COUNT], pg_bin=empty)

    assert "[database.backup] pg_bin" in str(caught.value)
    assert not isinstance(caught.value, BackupError)
    assert scratch_databases(postgres_cluster) == []


def test_a_restore_that_times_out_is_missing_evidence(
    postgres_cluster: PostgresServer, tickets_database: str, tmp_path: Path
) -> None:
    """A restore stopped by restore_timeout judged nothing: BackupToolError, not BackupError."""
    backup = pg_dump(tickets_database, tmp_path / "dump.sql", "-Fp")
    backup.write_text(backup.read_text() + "\nSELECT pg_sleep(30);\n")
    started = time.monotonic()

    with pytest.raises(BackupToolError, match=r"psql did not finish restoring .*dump\.sql within"):
        restore_and_check(tickets_database, backup, [ROW_COUNT], timeout_s=1.0)

    assert time.monotonic() - started < 20
    assert scratch_databases(postgres_cluster) == []


def test_a_plain_dump_that_fails_midway_stops_with_psqls_error(
    tickets_database: str, tmp_path: Path
) -> None:
    """ON_ERROR_STOP: the first failing statement ends the restore with psql's message."""
    backup = pg_dump(tickets_database, tmp_path / "dump.sql", "-Fp")
    backup.write_text(backup.read_text() + "\nSELECT * FROM no_such_table;\n")

    with pytest.raises(
        BackupError,
        match=r'dump.sql does not restore: psql exited 3: .*"no_such_table" does not exist',
    ):
        restore_and_check(tickets_database, backup, [ROW_COUNT])


def test_a_plain_dump_that_would_leave_the_scratch_database_is_refused(
    tickets_database: str, tmp_path: Path
) -> None:
    """`pg_dump --create` output would \\connect to the real database: nothing is run."""
    backup = pg_dump(tickets_database, tmp_path / "dump.sql", "-Fp", "--create")

    with pytest.raises(BackupError, match=r"refusing to restore .*CREATE DATABASE"):
        restore_and_check(tickets_database, backup, [ROW_COUNT])


def test_the_password_reaches_the_tools_through_the_environment_only(
    tickets_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a password in the URL, pg_restore's command line has none and PGPASSWORD has it
    (trust authentication ignores it, so the restore still works)."""
    backup = pg_dump(tickets_database, tmp_path / "dump.custom", "-Fc")
    url = tickets_database.replace("@", ":pw-Xy7-secret@", 1)
    seen: list[tuple[list[str], str | None]] = []
    real_popen = subprocess.Popen

    def spy(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        env = kwargs.get("env")
        seen.append((list(argv), env.get("PGPASSWORD") if isinstance(env, dict) else None))
        return real_popen(argv, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(subprocess, "Popen", spy)

    result = restore_and_check(url, backup, [ROW_COUNT])

    assert result.ok
    assert len(seen) == 1
    argv, password = seen[0]
    assert Path(argv[0]).name == "pg_restore"
    assert not any("pw-Xy7-secret" in arg for arg in argv)
    assert password == "pw-Xy7-secret"


# newest backup and backup commands (no server needed)


def test_newest_backup_picks_the_latest_mtime(tmp_path: Path) -> None:
    """The newest by modification time wins, whatever the names say."""
    for name, age_s in [("b-2024-01-03.dump", 7200), ("a-newest.dump", 60), ("c.dump", 3600)]:
        path = tmp_path / name
        path.write_bytes(b"x" * 10)
        stamp = time.time() - age_s
        os.utime(path, (stamp, stamp))
    (tmp_path / "notes.txt").write_text("not a backup")

    backup = newest_backup("*.dump", base=tmp_path)

    assert backup.path == tmp_path / "a-newest.dump"
    assert backup.size_bytes == 10
    assert 0.9 / 60 < backup.age_hours() < 1.1 / 60


def test_newest_backup_takes_absolute_patterns(tmp_path: Path) -> None:
    """An absolute pattern ignores `base`."""
    (tmp_path / "nightly").mkdir()
    (tmp_path / "nightly" / "db.sql.gz").write_bytes(b"zz")

    backup = newest_backup(f"{tmp_path}/*/db.sql.gz", base=Path("/nonexistent"))

    assert backup.path == tmp_path / "nightly" / "db.sql.gz"


def test_no_matching_backup_is_an_error_naming_the_pattern(tmp_path: Path) -> None:
    """Nothing found is never a pass: a finding (NoBackupFound), not missing evidence."""
    with pytest.raises(NoBackupFound, match=r"no backup matches '\*\.dump' under ") as caught:
        newest_backup("*.dump", base=tmp_path)

    assert not isinstance(caught.value, EvidenceMissing)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([sys.executable, "-c", "print('2024-05-01T02:30:00Z')"], id="argv-iso"),
        pytest.param("echo 1714530600", id="shell-epoch"),
        pytest.param("printf '\\n  2024-05-01T04:30:00+02:00 \\n'", id="shell-offset-padded"),
    ],
)
def test_a_backup_command_reports_the_backup_time(argv: list[str] | str) -> None:
    """ISO-8601 with an offset or epoch seconds, from argv or a shell line, gives the UTC time."""
    backup = backup_from_command(argv)

    assert backup.taken_at == datetime(2024, 5, 1, 2, 30, tzinfo=UTC)
    assert backup.path is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param("echo no backups >&2; exit 3", "exited 3: no backups", id="exit-status"),
        pytest.param("echo yesterday", "printed 'yesterday' is neither", id="unreadable"),
        pytest.param("echo 2024-05-01T02:30:00", "has no UTC offset", id="naive"),
        pytest.param("true", "printed nothing", id="silent"),
        pytest.param(["/nonexistent/tool"], "cannot run", id="missing"),
    ],
)
def test_a_bad_backup_command_says_what_it_printed(argv: list[str] | str, expected: str) -> None:
    """A failure, an unreadable or zone-less time, or silence: the gate could not tell when the
    backup was taken, BackupToolError (missing evidence) names the command."""
    with pytest.raises(BackupToolError, match="backup command `") as caught:
        backup_from_command(argv)

    assert expected in str(caught.value)


def test_a_hung_backup_command_is_stopped_with_its_children() -> None:
    """The timeout kills the shell and the sleep it started, instead of waiting for them."""
    started = time.monotonic()

    with pytest.raises(BackupToolError, match=r"did not finish within 0\.5 s"):
        backup_from_command("sleep 30; echo 1714530600", timeout_s=0.5)

    assert time.monotonic() - started < 5
