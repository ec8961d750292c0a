"""A throwaway PostgreSQL server on loopback: initdb into a temp dir, start, stop, remove.

Real PostgreSQL from Debian's package. As root, the server runs as the `postgres` user.
"""

from __future__ import annotations

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


def postgres_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, newest version first."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"


def require_postgres() -> Path:
    """The binaries, or a skip outside CI (in CI they are installed, so a miss fails)."""
    found = postgres_bin()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries not found; .ci/run installs the postgresql package")
        pytest.skip("PostgreSQL not installed (apt-get install postgresql); runs in CI")
    return found


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a fresh cluster (trust auth, no fsync) and remove it afterwards."""
    bin_dir = require_postgres()
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    workdir = Path(tempfile.mkdtemp(prefix="releasegate-pg-"))
    data, sockets = workdir / "data", workdir / "sock"
    sockets.mkdir()
    if as_root:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 60}
    try:
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "--no-sync",
                "-U",
                user,
            ],
            **run,  # type: ignore[call-overload]
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-o",
                options,
                "-l",
                str(workdir / "server.log"),
                "start",
            ],
            **run,  # type: ignore[call-overload]
        )
        yield PostgresServer(port, user)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(workdir, ignore_errors=True)
