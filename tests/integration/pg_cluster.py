"""A throwaway PostgreSQL server on loopback, for the tests that need a real one.

`postgres_server()` runs initdb into a temp dir (trust auth, no fsync: nothing here is worth
keeping), starts the server on a free port with `pg_ctl -w`, and stops and removes it afterwards.
As root it runs as the `postgres` user, since PostgreSQL refuses to run as root.

Test modules get the session-wide server as the `postgres_cluster` fixture by naming this
module in their `pytest_plugins`; `fresh_database` gives each test a database of its own:

    pytest_plugins = ["tests.integration.pg_cluster"]

    def test_x(fresh_database: str) -> None: ...   # a postgresql+psycopg:// URL

Without PostgreSQL binaries the tests skip, except in CI (`CI=true`), where they are installed
by ./dev and a missing server must fail the run rather than hide it.

PYTEST_DONT_REWRITE: this module is both imported (for `PostgresServer`) and named as a plugin;
it has no asserts to rewrite, and this marker keeps pytest from warning that it was imported
before being registered (an error under `filterwarnings = error`).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# initdb and a start take a few seconds; a stuck one fails the run instead of hanging it
COMMAND_TIMEOUT_S = 60
_database_numbers = itertools.count(1)


def postgres_bin() -> Path | None:
    """The directory holding initdb and pg_ctl (the newest installed version), or None."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in versions:
        if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def require_postgres() -> Path:
    """The binaries' directory; outside CI a skip when they are absent, in CI a failure."""
    found = postgres_bin()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries not found (CI=true): ./dev setup installs postgresql")
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql); they run in CI")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: connect as `user` (trust auth) on 127.0.0.1:`port`."""

    port: int
    user: str
    log_file: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for `database` on this server."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; its URL."""
        import psycopg  # only the tests that use PostgreSQL need the driver

        dsn = f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # name is ours, never user input
        return self.url(name)

    def log(self) -> str:
        """The server's log, for failure messages."""
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""


def _run(argv: list[str]) -> None:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {done.returncode}: {(done.stderr or done.stdout).strip()}"
        )


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh cluster; stop it (`pg_ctl stop -m fast`) and remove it afterwards."""
    bin_dir = require_postgres()
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else (os.environ.get("USER") or "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    workdir = Path(tempfile.mkdtemp(prefix="releasegate-pg-"))
    data, sockets, log_file = workdir / "data", workdir / "sockets", workdir / "server.log"
    sockets.mkdir()
    if as_root:
        for path in (workdir, sockets):
            shutil.chown(path, "postgres")
    pg_ctl = str(bin_dir / "pg_ctl")
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "--no-sync",
              "-U", user])  # fmt: skip
        port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
        # the "slow queries" metric example reads pg_stat_statements (tests/integration/
        # test_metric_checks.py); loading it costs the other tests nothing
        options += " -c shared_preload_libraries=pg_stat_statements"
        _run([*prefix, pg_ctl, "-D", str(data), "-w", "-t", str(COMMAND_TIMEOUT_S),
              "-o", options, "-l", str(log_file), "start"])  # fmt: skip
        yield PostgresServer(port=port, user=user, log_file=log_file)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server shared by the session (skipped without PostgreSQL,
    outside CI)."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def fresh_database(postgres_cluster: PostgresServer) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return postgres_cluster.create_database(f"releasegate_test_{next(_database_numbers)}")
