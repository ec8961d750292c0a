"""Reaching the target's PostgreSQL: a timed ping, and scratch databases for the checks that must
write (migrations run forwards and back, backups restored) without touching the real data.

URLs come from environment files, often in SQLAlchemy's spelling (`postgresql+psycopg://`); the
driver is psycopg 3 whatever the spelling says. A URL's password may reach the driver and, through
`PGPASSWORD`, the PostgreSQL tools; it never reaches a message, an exception or a command line.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from releasegate.errors import DatabaseUnreachable, ScratchDatabaseError
from releasegate.redact import Redactor

MASK = "***"
# The spellings of a PostgreSQL URL accepted here; `+driver` is SQLAlchemy's and means nothing to
# libpq, which is what finally parses the URL.
_SCHEME = re.compile(r"^(?P<scheme>postgres(?:ql)?)(?:\+[A-Za-z0-9_]+)?://", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(?P<key>(?:^|&)password=)[^&#]*", re.IGNORECASE)
# key=value connection strings (`host=db password='x y'`), in case one is passed for a URL
_KEYWORD_PASSWORD = re.compile(
    r"(?P<key>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)
# `scheme://user:secret@` anywhere in free text (a tool's stderr may echo a connection string)
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]*@")
# a scratch name is <prefix>_<12 hex>; PostgreSQL truncates identifiers at 63 bytes, silently
_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,49}$")
DEFAULT_HINT = (
    "check the host and port, that the server is running and accepts connections from this "
    "machine (pg_hba.conf, firewall), and the user, password and database name"
)


@dataclass(frozen=True)
class PingResult:
    """One timed round trip; `latency_ms` covers the query only, not the connection set-up."""

    latency_ms: float
    server_version: str


def first_line(text: str) -> str:
    """The first non-blank line: drivers and tools put the cause there and the detail after."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def libpq_url(url: str) -> str:
    """`url` as libpq reads it: SQLAlchemy's `+driver` removed, everything else unchanged."""
    match = _SCHEME.match(url)
    if match is None:
        return url
    return f"{match['scheme']}://{url[match.end() :]}"


def sqlalchemy_url(url: str) -> str:
    """`url` for SQLAlchemy with psycopg 3, the one driver releasegate installs (a `postgres://`
    or `+psycopg2` URL would otherwise ask SQLAlchemy for a driver that is not there)."""
    match = _SCHEME.match(url)
    if match is None:
        return url
    return f"postgresql+psycopg://{url[match.end() :]}"


def _password(url: str) -> str | None:
    try:
        value = conninfo_to_dict(libpq_url(url)).get("password")
    except psycopg.Error:
        return None
    return None if value is None else str(value)


def _parts(url: str) -> tuple[str, str, str, str, str]:
    """scheme, userinfo, hosts, path, query. The userinfo ends at the last `@` before the query,
    so a password with an unescaped `@` or `/` is still taken whole, and masked whole."""
    scheme, _, tail = url.partition("://")
    main, _, query = tail.partition("?")
    userinfo, _, location = main.rpartition("@")
    hosts, _, path = location.partition("/")
    return scheme, userinfo, hosts, path, query


def _join(scheme: str, userinfo: str, hosts: str, path: str, query: str) -> str:
    at = "@" if userinfo else ""
    return f"{scheme}://{userinfo}{at}{hosts}/{path}" + (f"?{query}" if query else "")


def safe_url(url: str) -> str:
    """`url` with its password, wherever it is written, replaced by `***`; fit for any output."""
    if "://" not in url:  # a key=value connection string passed where a URL was expected
        return _KEYWORD_PASSWORD.sub(rf"\g<key>{MASK}", url)
    scheme, userinfo, hosts, path, query = _parts(url)
    if ":" in userinfo:
        userinfo = f"{userinfo.partition(':')[0]}:{MASK}"
    masked = _join(scheme, userinfo, hosts, path, _QUERY_PASSWORD.sub(rf"\g<key>{MASK}", query))
    # and the password as libpq reads it, should the URL be written in a way not foreseen here
    return scrub(masked, url)


def scrub(text: str, url: str) -> str:
    """`text` (a driver's or a tool's message) with `url`'s password and any URL credentials
    masked: messages built from outside text cannot be trusted to leave the password out."""
    password = _password(url)
    if password:
        text = Redactor.of([password]).redact(text)
    return _URL_CREDENTIALS.sub(rf"\g<head>{MASK}@", text)


def split_password(url: str) -> tuple[str, str | None]:
    """A password-free libpq connection string for `url`, and the password.

    Command lines are visible to every user of the machine (`ps`), so the PostgreSQL tools get the
    connection string as `-d` and the password as `PGPASSWORD`.
    """
    try:
        params = conninfo_to_dict(libpq_url(url))
    except psycopg.Error as error:
        raise unreachable(url, error, hint="check the URL's syntax") from None
    password = params.pop("password", None)
    return make_conninfo("", **params), None if password is None else str(password)


def admin_url(url: str, database: str = "postgres") -> str:
    """The URL of `database` on `url`'s server, with the same credentials and options."""
    if not _SCHEME.match(url):
        raise ValueError(f"not a PostgreSQL URL (postgresql://...): {safe_url(url)}")
    scheme, userinfo, hosts, _, query = _parts(url)
    return _join(scheme, userinfo, hosts, quote(database, safe=""), query)


def connect(
    url: str, *, timeout_s: float = 5.0, autocommit: bool = True
) -> psycopg.Connection[Any]:
    """A psycopg connection to `url`, or `DatabaseUnreachable` saying why not, password-free."""
    try:
        return psycopg.connect(
            libpq_url(url),
            autocommit=autocommit,
            # libpq counts whole seconds and treats 1 as 2; below that it would mean "forever"
            connect_timeout=max(2, round(timeout_s)),
        )
    except psycopg.ProgrammingError as error:  # libpq could not parse the URL
        raise unreachable(url, error, hint="check the URL's syntax") from None
    except psycopg.Error as error:
        raise unreachable(url, error) from None


def text_rows(connection: psycopg.Connection[Any], sql: str) -> list[tuple[str | None, ...]]:
    """The rows `sql` returns, each value as PostgreSQL writes it (`t` for true, `12.50`).

    Text, not Python objects, so a check configured as `equals = "t"` compares with what `psql`
    shows, whatever the column's type. None for SQL NULL.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql.encode())  # bytes: the SQL is the operator's, not a template
        result = cursor.pgresult
        if result is None or cursor.description is None:
            return []
        encoding = connection.info.encoding
        return [
            tuple(
                None if raw is None else raw.decode(encoding, errors="replace")
                for raw in (result.get_value(row, column) for column in range(result.nfields))
            )
            for row in range(result.ntuples)
        ]


def one_value(connection: psycopg.Connection[Any], sql: str) -> str | None:
    """The single value `sql` returns (see `text_rows`); `ValueError` unless it returns exactly
    one row of one column, since a check that reads the first of many would pass by accident."""
    rows = text_rows(connection, sql)
    if len(rows) != 1 or len(rows[0]) != 1:
        columns = len(rows[0]) if rows else 0
        raise ValueError(f"returned {len(rows)} row(s) of {columns} column(s), not one value")
    return rows[0][0]


def ping(url: str, *, query: str = "SELECT 1", timeout_s: float = 5.0) -> PingResult:
    """Connect and run `query` once; `DatabaseUnreachable` if either fails.

    The clock covers the query alone: connection set-up (TLS, authentication) varies with where
    the gate runs, while the query's round trip is what the application pays on every request.
    """
    with connect(url, timeout_s=timeout_s) as connection:
        version = connection.info.parameter_status("server_version") or "unknown"
        try:
            connection.execute(
                "SELECT set_config('statement_timeout', %s, false)",
                (f"{max(1, round(timeout_s * 1000))}ms",),
            )
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(query.encode())
                if cursor.description is not None:
                    cursor.fetchall()
            latency_s = time.perf_counter() - started
        except psycopg.Error as error:
            raise unreachable(
                url, f"{query!r} failed: {first_line(str(error))}", hint="check the query"
            ) from None
    return PingResult(latency_ms=latency_s * 1000.0, server_version=version)


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop(url: str, name: str) -> None:
    with connect(url, timeout_s=10) as connection:
        if connection.info.server_version >= 130000:
            connection.execute(f"DROP DATABASE IF EXISTS {_quote_identifier(name)} WITH (FORCE)")
            return
        # before PostgreSQL 13 there is no FORCE: end the sessions first, then drop
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        connection.execute(f"DROP DATABASE IF EXISTS {_quote_identifier(name)}")


@contextmanager
def scratch_database(url: str, *, prefix: str = "releasegate_scratch") -> Iterator[str]:
    """An empty database of its own on `url`'s server, for as long as the block runs.

    Created and dropped through `url`'s own database rather than `postgres`: the gate's user may
    be allowed to connect only there, and CREATE/DROP DATABASE work from any database. The drop
    uses FORCE, so sessions a failed check left open cannot keep the database alive; a drop that
    fails is reported (as a note on the block's own exception, if it raised one) with the name to
    drop by hand, since a leftover copy of a backup may hold production data.
    """
    if not _PREFIX.match(prefix):
        raise ValueError(
            f"scratch database prefix {prefix!r}: use [a-z0-9_], at most 50 characters"
        )
    name = f"{prefix}_{secrets.token_hex(6)}"
    with connect(url, timeout_s=10) as connection:
        try:
            connection.execute(f"CREATE DATABASE {_quote_identifier(name)}")
        except psycopg.Error as error:
            raise ScratchDatabaseError(
                f"cannot create a scratch database on {safe_url(url)}: "
                f"{scrub(first_line(str(error)), url)} (the user needs CREATEDB)"
            ) from None
    try:
        yield admin_url(url, name)
    except BaseException as error:
        try:
            _drop(url, name)
        except (psycopg.Error, DatabaseUnreachable) as drop_error:
            error.add_note(_left_behind(url, name, drop_error))
        raise
    try:
        _drop(url, name)
    except (psycopg.Error, DatabaseUnreachable) as drop_error:
        raise ScratchDatabaseError(_left_behind(url, name, drop_error)) from None


def _left_behind(url: str, name: str, error: BaseException) -> str:
    return (
        f"scratch database {name} on {safe_url(url)} could not be dropped "
        f"({scrub(first_line(str(error)), url)}); drop it by hand: "
        f"DROP DATABASE {name} WITH (FORCE)"
    )


def unreachable(
    url: str, reason: str | BaseException, *, hint: str | None = None
) -> DatabaseUnreachable:
    """The error for a database the gate could not talk to: the URL without its password, the
    driver's first line scrubbed of it, and what to do."""
    return DatabaseUnreachable(
        safe_url(url),
        scrub(first_line(str(reason)) or type(reason).__name__, url),
        DEFAULT_HINT if hint is None else hint,
    )
