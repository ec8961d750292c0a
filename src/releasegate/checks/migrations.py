"""Schema migrations before a deploy: is the database where the release expects it, and can the
release's migrations be undone if it has to be rolled back?

Alembic is driven in-process (ScriptDirectory, MigrationContext, `alembic.command`) rather than
through its CLI, so failures arrive as exceptions with the revision that caused them, not as
text to parse. Projects without alembic name a query that returns their schema version.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, pool
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from releasegate.checks.database import (
    connect,
    first_line,
    safe_url,
    scratch_database,
    scrub,
    sqlalchemy_url,
    text_rows,
    unreachable,
)
from releasegate.errors import MigrationFailed, MigrationsUnreadable
from releasegate.outcome import Figures, Judged

CONNECT_TIMEOUT_S = 10
CONFIG_SUFFIXES = (".ini", ".toml")


@dataclass(frozen=True)
class Revision:
    """A migration, by id and the message its author gave it."""

    id: str
    message: str


@dataclass(frozen=True)
class MigrationStatus:
    """Where the database is (`current`), where the release's code is (`heads`), and what lies
    between, in the order it would be applied."""

    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending: tuple[Revision, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)


def judge_at_head(status: MigrationStatus, where: str) -> Judged:
    """The schema is at the release's head(s); a failure names the pending migrations.
    `measured` is the current version(s), `limit` the expected one(s), as text."""
    current = ", ".join(status.current) or "(none: an empty schema)"
    expected = ", ".join(status.heads)
    figures = Figures(measured=current, limit=expected, where=where)
    if status.at_head:
        return Judged.passed(f"{where}: schema at {expected}", **figures)
    pending = "; ".join(f"{r.id} ({r.message})" for r in status.pending)
    return Judged.failed(
        f"{where}: schema at {current}, expected {expected};"
        f" {len(status.pending)} pending: {pending or 'unknown'}",
        **figures,
    )


@dataclass(frozen=True)
class ReversibilityStep:
    """One migration run on the scratch database: `upgrade` or `downgrade` of `revision`."""

    action: str
    revision: str
    seconds: float


def _config(script_location: Path, url: str | None = None) -> Config:
    """An alembic Config for a script directory, or for the alembic.ini / pyproject.toml that
    names one (relative paths in those are taken from the current directory, as alembic does)."""
    if script_location.is_file() and script_location.suffix in CONFIG_SUFFIXES:
        is_toml = script_location.suffix == ".toml"
        config = Config(toml_file=script_location) if is_toml else Config(file_=script_location)
        try:
            location = config.get_alembic_option("script_location")
        except Exception as error:  # configparser and tomllib raise their own kinds
            raise MigrationsUnreadable(f"{script_location}: cannot be read: {error}") from None
        if not location:
            section = "[tool.alembic]" if is_toml else "[alembic]"
            raise MigrationsUnreadable(f"{script_location}: {section} has no script_location key")
    elif script_location.is_dir():
        config = Config()
        config.set_main_option("script_location", str(script_location).replace("%", "%%"))
    else:
        raise MigrationsUnreadable(
            f"{script_location}: not an alembic script directory (env.py, versions/), "
            "alembic.ini or pyproject.toml"
        )
    if url is not None:
        # the ini parser expands %(name)s, and a URL-encoded password is full of %
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def _scripts(script_location: Path) -> ScriptDirectory:
    """The revisions, loaded now so a broken file is reported here with its path."""
    config = _config(script_location)
    try:
        scripts = ScriptDirectory.from_config(config)
        heads = scripts.get_heads()  # imports every revision file
    except CommandError as error:
        raise MigrationsUnreadable(f"{script_location}: {first_line(str(error))}") from None
    except Exception as error:  # a revision file that does not import: SyntaxError, ImportError
        raise MigrationsUnreadable(
            f"{script_location}: a revision file does not load: {type(error).__name__}: {error}"
        ) from None
    if not heads:
        raise MigrationsUnreadable(
            f"{script_location}: no revisions found (versions/ is empty, or version_locations "
            "names the wrong directories)"
        )
    return scripts


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    # NullPool: no connection outlives the check (a scratch database is dropped right after)
    engine = create_engine(
        sqlalchemy_url(url),
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )
    try:
        yield engine
    finally:
        engine.dispose()


def _current_heads(url: str) -> tuple[str, ...]:
    """The revisions recorded in the database's alembic_version table (none if it has none)."""
    with _engine(url) as engine:
        try:
            with engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_heads()
        except DBAPIError as error:
            if isinstance(error.orig, psycopg.OperationalError):
                raise unreachable(url, error.orig) from None
            raise MigrationsUnreadable(
                f"reading alembic_version at {safe_url(url)}: {scrub(first_line(str(error)), url)}"
            ) from None


def _revision(script: Script) -> Revision:
    return Revision(id=script.revision, message=script.doc)


def _pending(
    scripts: ScriptDirectory, current: tuple[str, ...], where: str
) -> tuple[Revision, ...]:
    try:
        known = [scripts.get_revision(revision) for revision in current]
        between = list(scripts.iterate_revisions("heads", current or "base"))
    except CommandError as error:
        raise MigrationsUnreadable(
            f"the database at {where} is at {', '.join(current)}, which the script directory "
            f"does not lead to ({first_line(str(error))}): is a newer release's schema deployed?"
        ) from None
    applied = {script.revision for script in known if script is not None}
    # iterate_revisions walks from the heads down; applying goes the other way
    return tuple(_revision(s) for s in reversed(between) if s.revision not in applied)


def alembic_status(url: str, script_location: Path) -> MigrationStatus:
    """The database's alembic revision(s) against the script directory's heads.

    `script_location` is the directory holding env.py and versions/, or the alembic.ini or
    pyproject.toml that names it. The database is only read; env.py is not run, so the version
    table must be alembic's default `alembic_version` in the connection's search path.
    """
    scripts = _scripts(script_location)
    heads = tuple(scripts.get_heads())
    current = _current_heads(url)
    return MigrationStatus(
        current=current, heads=heads, pending=_pending(scripts, current, safe_url(url))
    )


def version_query_status(url: str, query: str, expected: str) -> MigrationStatus:
    """The schema version as `query` reports it (Flyway, Liquibase, a home-grown table) against
    the version the release expects.

    Only alembic knows the steps between two versions; here `pending` is empty at the expected
    version and otherwise holds the expected version alone. A NULL or empty answer means no
    version is applied yet.
    """
    with connect(url, timeout_s=CONNECT_TIMEOUT_S) as connection:
        try:
            rows = text_rows(connection, query)
        except psycopg.Error as error:
            raise MigrationsUnreadable(
                f"version query {query!r} failed: {scrub(first_line(str(error)), url)}"
            ) from None
    if len(rows) > 1 or any(len(row) != 1 for row in rows):
        raise MigrationsUnreadable(
            f"version query {query!r} returned {len(rows)} row(s) of {len(rows[0])} column(s); "
            "it must return the current version as one value"
        )
    value = rows[0][0] if rows else None
    current = () if value is None else (value,)
    pending = () if current == (expected,) else (Revision(id=expected, message="expected version"),)
    return MigrationStatus(current=current, heads=(expected,), pending=pending)


def _run_step(
    config: Config, engine: Engine, url: str, action: str, target: str, revision: Revision
) -> ReversibilityStep:
    started = time.perf_counter()
    try:
        # one transaction per step: PostgreSQL's DDL is transactional, so a failed step leaves
        # the scratch database as it was before it
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            run = command.upgrade if action == "upgrade" else command.downgrade
            run(config, target)
    except Exception as error:  # the migration's own code may raise anything
        # SQLAlchemy's first line names the driver's error class; others need their type named
        cause = first_line(str(error))
        if not isinstance(error, SQLAlchemyError | CommandError):
            cause = f"{type(error).__name__}: {cause}" if cause else type(error).__name__
        what = f"{action} of {revision.id} ({revision.message})"
        if step_failure_is_the_tools(error):
            raise MigrationsUnreadable(
                f"{what} could not be run: {scrub(cause, url)} (the gate's environment or its"
                " connection failed, not the migration: nothing was judged)"
            ) from None
        raise MigrationFailed(f"{what} failed: {scrub(cause, url)}") from None
    finally:
        config.attributes.pop("connection", None)
    return ReversibilityStep(
        action=action, revision=revision.id, seconds=time.perf_counter() - started
    )


def step_failure_is_the_tools(error: BaseException) -> bool:
    """Whether a migration step's exception is the gate's own failure rather than the
    migration's: alembic refusing (CommandError), a module the gate's Python does not have
    (env.py or a revision importing the application), the connection lost or cancelled
    (psycopg's OperationalError). Anything else came from the migration's own code or SQL."""
    if isinstance(error, CommandError | ImportError):
        return True
    if isinstance(error, DBAPIError):
        return isinstance(error.orig, psycopg.OperationalError)
    return isinstance(error, psycopg.OperationalError)


def _expect_at(scratch: str, expected: tuple[str, ...], step: str) -> None:
    """Refuse to go on if env.py migrated some other database than the scratch one."""
    found = _current_heads(scratch)
    if set(found) != set(expected):
        raise MigrationsUnreadable(
            f"after {step} the scratch database is at {list(found)}, not {list(expected)}: "
            "env.py must use config.attributes['connection'] (or the sqlalchemy.url option) "
            "rather than a URL of its own, and alembic's default version table"
        )


def check_reversible(url: str, script_location: Path) -> tuple[ReversibilityStep, ...]:
    """Prove on a scratch database of `url`'s server that the release can be rolled back: every
    revision upgraded in turn, the newest downgraded, then upgraded again.

    Upgrading one revision at a time times each and names the one that fails. After every step the
    scratch database's version is checked, so an env.py that ignores the connection it is given
    is caught before a downgrade reaches a database it names itself. `MigrationFailed` names the
    failing step and revision; `MigrationsUnreadable` says what kept the gate from running them.
    The scratch database is dropped whatever happens.
    """
    scripts = _scripts(script_location)
    heads = scripts.get_heads()
    if len(heads) > 1:
        raise MigrationFailed(
            f"{script_location}: {len(heads)} heads ({', '.join(heads)}); merge them before "
            "checking that the newest revision can be downgraded"
        )
    order = _pending(scripts, (), script_location.name)
    newest = order[-1]
    before_newest = (order[-2].id,) if len(order) > 1 else ()
    steps: list[ReversibilityStep] = []
    with scratch_database(url, prefix="releasegate_migrations") as scratch, _engine(scratch) as db:
        config = _config(script_location, scratch)
        for revision in order:
            steps.append(_run_step(config, db, scratch, "upgrade", revision.id, revision))
            _expect_at(scratch, (revision.id,), f"upgrade of {revision.id}")
        steps.append(_run_step(config, db, scratch, "downgrade", "-1", newest))
        _expect_at(scratch, before_newest, f"downgrade of {newest.id}")
        steps.append(_run_step(config, db, scratch, "upgrade", newest.id, newest))
        _expect_at(scratch, (newest.id,), f"upgrade of {newest.id} after its downgrade")
    return tuple(steps)
