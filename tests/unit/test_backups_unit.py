"""The pure parts of the database checks: backup times, password-free URLs, sanity verdicts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from releasegate.checks.backups import (
    Backup,
    SanityQuery,
    find_tool,
    judge,
    parse_timestamp,
    restore_failure_is_the_tools,
)
from releasegate.checks.database import (
    admin_url,
    libpq_url,
    ping,
    safe_url,
    scrub,
    split_password,
    sqlalchemy_url,
    unreachable,
)
from releasegate.checks.migrations import step_failure_is_the_tools
from releasegate.errors import (
    BackupError,
    BackupToolError,
    DatabaseUnreachable,
    EvidenceMissing,
    MigrationFailed,
    MigrationsUnreadable,
    NoBackupFound,
    ScratchDatabaseError,
)

SECRET = "pw-Xy7-secret"
MAY_1 = datetime(2024, 5, 1, 2, 30, tzinfo=UTC)

# timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-05-01T02:30:00Z", MAY_1, id="iso-z"),
        pytest.param("2024-05-01T04:30:00+02:00", MAY_1, id="iso-offset"),
        pytest.param("2024-05-01 02:30:00.000+00:00", MAY_1, id="iso-space-fraction"),
        pytest.param("1714530600", MAY_1, id="epoch"),
        pytest.param("1714530600.25", MAY_1 + timedelta(seconds=0.25), id="epoch-fraction"),
        pytest.param("  1714530600\n", MAY_1, id="padded"),
    ],
)
def test_backup_times_are_read_as_utc(text: str, expected: datetime) -> None:
    """ISO-8601 with an offset and epoch seconds become the same aware UTC instant."""
    parsed = parse_timestamp(text)

    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("2024-05-01T02:30:00", "has no UTC offset", id="naive"),
        pytest.param("2024-05-01", "has no UTC offset", id="date-only"),
        pytest.param("1714530600000", "milliseconds?", id="epoch-milliseconds"),
        pytest.param("yesterday", "neither an ISO-8601 time nor epoch seconds", id="words"),
        pytest.param("", "neither", id="empty"),
        pytest.param("-5", "neither", id="negative"),
    ],
)
def test_unreadable_backup_times_are_refused_not_guessed(text: str, reason: str) -> None:
    """A time without a zone, in milliseconds or in words is an error that says which."""
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_timestamp(text)


def test_a_backups_age_is_counted_from_now() -> None:
    """Age in hours, against an explicit aware `now`, whatever zone it is given in."""
    backup = Backup(path=None, taken_at=MAY_1, size_bytes=None)
    now = datetime(2024, 5, 1, 16, 0, tzinfo=timezone(timedelta(hours=2)))

    assert backup.age_hours(now) == pytest.approx(11.5)


def test_a_backup_time_without_a_zone_is_refused() -> None:
    """A naive time has no age: refused when the Backup is made, and as `now`."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Backup(path=None, taken_at=datetime(2024, 5, 1), size_bytes=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        Backup(path=None, taken_at=MAY_1, size_bytes=None).age_hours(datetime(2024, 5, 2))


# URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            f"postgresql+psycopg://app:{SECRET}@db.internal:5432/app?sslmode=require",
            "postgresql+psycopg://app:***@db.internal:5432/app?sslmode=require",
            id="sqlalchemy",
        ),
        pytest.param(
            f"postgres://app:{SECRET}@db/app", "postgres://app:***@db/app", id="postgres-scheme"
        ),
        pytest.param(
            "postgresql://app:p%40ss%2Fword-1@db/app", "postgresql://app:***@db/app", id="encoded"
        ),
        pytest.param(
            "postgresql://app:p@ss/word-1@db/app", "postgresql://app:***@db/app", id="unescaped"
        ),
        pytest.param(
            f"postgresql://app@db/app?sslmode=require&password={SECRET}",
            "postgresql://app@db/app?sslmode=require&password=***",
            id="query-password",
        ),
        pytest.param(
            "postgresql://app@h1:5432,h2:5433/app",
            "postgresql://app@h1:5432,h2:5433/app",
            id="none",
        ),
        pytest.param(
            "postgresql:///app?host=/run/pg", "postgresql:///app?host=/run/pg", id="socket"
        ),
        pytest.param(
            f"host=db user=app password='{SECRET} x' dbname=app",
            "host=db user=app password=*** dbname=app",
            id="keyword-string",
        ),
    ],
)
def test_safe_url_masks_the_password_wherever_it_is_written(url: str, expected: str) -> None:
    """Userinfo, query parameter or keyword: the password becomes ***, the rest is kept."""
    assert safe_url(url) == expected


def test_driver_spellings_are_translated_for_libpq_and_sqlalchemy() -> None:
    """`+driver` means nothing to libpq; SQLAlchemy always gets psycopg 3."""
    assert libpq_url("postgresql+psycopg://a@b/c") == "postgresql://a@b/c"
    assert libpq_url("postgres://a@b/c") == "postgres://a@b/c"
    assert sqlalchemy_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert sqlalchemy_url("postgresql+psycopg2://a@b/c") == "postgresql+psycopg://a@b/c"


def test_admin_url_keeps_server_credentials_and_options() -> None:
    """Only the database changes; an odd name is escaped."""
    url = f"postgresql+psycopg://app:{SECRET}@db:5432/app?sslmode=require"

    assert admin_url(url) == f"postgresql+psycopg://app:{SECRET}@db:5432/postgres?sslmode=require"
    assert (
        admin_url(url, "a b") == f"postgresql+psycopg://app:{SECRET}@db:5432/a%20b?sslmode=require"
    )


def test_tools_get_the_password_apart_from_the_connection_string() -> None:
    """The connection string for `-d` has no password; the decoded password comes separately."""
    conninfo, password = split_password("postgresql+psycopg://app:p%40ss-1@db:5432/app")

    assert conninfo == "user=app dbname=app host=db port=5432"
    assert password == "p@ss-1"


def test_free_text_loses_the_password_and_any_url_credentials() -> None:
    """A tool's message echoing the password or another URL's credentials is masked."""
    url = f"postgresql://app:{SECRET}@db/app"
    text = f"FATAL: password {SECRET} rejected; see postgresql://other:hunter22@x/y"

    scrubbed = scrub(text, url)

    assert SECRET not in scrubbed
    assert "hunter22" not in scrubbed


def test_an_unreachable_database_message_is_password_free() -> None:
    """Even a reason that quotes the password is masked; the URL shows ***."""
    url = f"postgresql://app:{SECRET}@db/app"

    error = unreachable(url, f'password authentication failed ("{SECRET}")\nDETAIL: x')

    assert SECRET not in str(error)
    assert str(error).startswith("cannot use the database at postgresql://app:***@db/app: ")
    assert "DETAIL" not in str(error)


def test_a_malformed_url_is_reported_without_connecting_or_the_password() -> None:
    """libpq's parse error comes back as DatabaseUnreachable with a hint about the URL."""
    with pytest.raises(DatabaseUnreachable, match="check the URL's syntax") as caught:
        ping(f"postgresql://app:{SECRET}@127.0.0.1:1/app?no_such_option=1")

    assert SECRET not in str(caught.value)


# sanity verdicts


AT_LEAST_10 = SanityQuery("rows", "q", min=10)
AT_MOST_HALF = SanityQuery("lag", "q", max=0.5)
ONE_TO_FIVE = SanityQuery("r", "q", min=1, max=5)
IS_TRUE = SanityQuery("flag", "q", equals="t")


@pytest.mark.parametrize(
    ("query", "value", "ok", "message"),
    [
        pytest.param(AT_LEAST_10, "12", True, "rows: 12 within min 10", id="min-ok"),
        pytest.param(AT_LEAST_10, "10", True, "rows: 10 within min 10", id="min-edge"),
        pytest.param(AT_LEAST_10, "3", False, "rows: 3 is below the minimum 10", id="min-fail"),
        pytest.param(AT_MOST_HALF, "0.75", False, "lag: 0.75 is above the maximum 0.5", id="max"),
        pytest.param(ONE_TO_FIVE, "5", True, "r: 5 within min 1, max 5", id="range-ok"),
        pytest.param(IS_TRUE, "t", True, "flag: 't' as expected", id="equals-ok"),
        pytest.param(IS_TRUE, "f", False, "flag: 'f', expected 't'", id="equals-fail"),
        pytest.param(AT_LEAST_10, None, False, "rows: returned NULL", id="null"),
        pytest.param(AT_LEAST_10, "many", False, "rows: 'many' is not a number", id="text"),
    ],
)
def test_sanity_values_are_judged_against_their_expectation(
    query: SanityQuery, value: str | None, ok: bool, message: str
) -> None:
    """min and max are inclusive numbers, equals compares text; NULL never passes."""
    result = judge(query, value)

    assert (result.ok, result.message, result.value) == (ok, message, value)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        pytest.param({}, "give min, max or equals", id="no-expectation"),
        pytest.param({"min": 1, "equals": "1"}, "not both", id="both-kinds"),
        pytest.param({"min": 5, "max": 1}, "min 5 > max 1", id="inverted"),
    ],
)
def test_a_sanity_query_must_say_what_it_expects(kwargs: dict[str, object], problem: str) -> None:
    """A query that would pass on any answer, or on none, is refused when it is made."""
    with pytest.raises(ValueError, match=problem):
        SanityQuery("rows", "SELECT 1", **kwargs)  # type: ignore[arg-type]


# classification: the backup found wrong (a failed check) or the gate's tools failing (HOLD)


@pytest.mark.parametrize(
    ("error", "missing_evidence"),
    [
        pytest.param(NoBackupFound("no backup matches '*.dump'"), False, id="no-backup"),
        pytest.param(BackupError("x.dump does not restore"), False, id="does-not-restore"),
        pytest.param(BackupToolError("pg_restore not found"), True, id="tool-missing"),
        pytest.param(MigrationFailed("downgrade of 0004 failed"), False, id="migration-step"),
        pytest.param(MigrationsUnreadable("no-such-dir: not an alembic"), True, id="no-alembic"),
        pytest.param(ScratchDatabaseError("no CREATEDB"), True, id="no-scratch-database"),
    ],
)
def test_each_database_error_is_a_finding_or_missing_evidence(
    error: Exception, missing_evidence: bool
) -> None:
    """Tooling failures are EvidenceMissing (HOLD); findings never are, and vice versa."""
    assert isinstance(error, EvidenceMissing) is missing_evidence
    assert not isinstance(error, AssertionError) or not missing_evidence


@pytest.mark.parametrize(
    ("tool", "returncode", "stderr", "tools_fault"),
    [
        pytest.param(
            "pg_restore",
            1,
            'pg_restore: error: could not execute query: ERROR:  relation "x" does not exist',
            False,
            id="data-error",
        ),
        pytest.param(
            "pg_restore",
            1,
            "pg_restore: error: could not read from input file: end of file",
            False,
            id="truncated",
        ),
        pytest.param(
            "pg_restore",
            1,
            "pg_restore: error: unsupported version (1.16) in file header",
            True,
            id="client-too-old",
        ),
        pytest.param(
            "pg_restore",
            1,
            'pg_restore: error: connection to server at "db" (10.0.0.5), port 5432 failed',
            True,
            id="connection-failed",
        ),
        pytest.param("pg_restore", -9, "", True, id="killed"),
        pytest.param(
            "psql", 3, 'ERROR:  relation "no_such_table" does not exist', False, id="psql-statement"
        ),
        pytest.param(
            "psql", 2, "psql: server closed the connection unexpectedly", True, id="psql-connection"
        ),
        pytest.param("psql", 1, "psql: fatal: out of memory", True, id="psql-own-fatal"),
    ],
)
def test_a_restore_tool_failure_is_told_from_a_bad_dump(
    tool: str, returncode: int, stderr: str, tools_fault: bool
) -> None:
    """A dump that does not load is a finding; a crashed, too old or disconnected tool is not."""
    assert restore_failure_is_the_tools(tool, returncode, stderr) is tools_fault


def test_a_configured_tool_folder_without_the_tool_is_missing_evidence(tmp_path: Path) -> None:
    """pg_bin without pg_restore: BackupToolError saying where it looked and which key to set."""
    with pytest.raises(
        BackupToolError, match=r"pg_restore not found in .*\[database.backup\] pg_bin"
    ):
        find_tool("pg_restore", tmp_path)


def test_a_tool_on_no_path_is_missing_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither /usr/lib/postgresql nor PATH has it: how to install it is in the message."""
    monkeypatch.setenv("PATH", "")

    with pytest.raises(BackupToolError, match="install the PostgreSQL client tools"):
        find_tool("pg_restore_does_not_exist")


@pytest.mark.parametrize(
    ("error", "tools_fault"),
    [
        pytest.param(CommandError("Can't locate revision identified by 'x'"), True, id="alembic"),
        pytest.param(ModuleNotFoundError("No module named 'app'"), True, id="import"),
        pytest.param(
            DBAPIError("ALTER", None, psycopg.OperationalError("server closed the connection")),
            True,
            id="connection-lost",
        ),
        pytest.param(
            DBAPIError("ALTER", None, psycopg.errors.UndefinedColumn('column "x"')),
            False,
            id="sql-error",
        ),
        pytest.param(NotImplementedError("irreversible"), False, id="downgrade-raises"),
        pytest.param(ValueError("bad data"), False, id="migration-code"),
    ],
)
def test_a_migration_step_failure_is_told_from_a_tool_failure(
    error: BaseException, tools_fault: bool
) -> None:
    """The migration's own code or SQL failing is a finding; alembic, imports or the
    connection failing is the gate's."""
    assert step_failure_is_the_tools(error) is tools_fault
