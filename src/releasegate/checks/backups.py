"""Backups before a deploy: is there a recent one, and does it restore into a working database?

A backup that has never been restored is a hope, not a backup. `restore_and_check` restores it
into a scratch database on the target's own server (same version, same extensions) with the
PostgreSQL tools, then asks the sanity queries the operator wrote whether the data looks right.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BufferedIOBase
from pathlib import Path
from typing import IO

import psycopg

from releasegate.checks.database import (
    connect,
    first_line,
    one_value,
    scratch_database,
    scrub,
    split_password,
)
from releasegate.errors import BackupError, BackupToolError, NoBackupFound

# Epoch seconds reach 1e11 in the year 5138; a bigger number is milliseconds or nanoseconds.
MAX_EPOCH_SECONDS = 1e11
# Lines of a tool's stderr kept in an error: pg_restore puts the cause first, context after.
STDERR_LINES = 3
_EPOCH = re.compile(r"^\d+(?:\.\d+)?$")
_CUSTOM_MAGIC = b"PGDMP"
_GZIP_MAGIC = b"\x1f\x8b"
_TAR_MAGIC_OFFSET = 257  # POSIX tar: "ustar" at byte 257 of the first header
# Statements in a plain dump that would act outside the scratch database (`pg_dump --create`,
# pg_dumpall): \connect moves psql to the real database, CREATE/DROP DATABASE change the server.
_ESCAPES_SCRATCH = re.compile(
    rb"^\s*(?:\\c(?:onnect)?(?:\s|$)|(?:CREATE|DROP|ALTER)\s+DATABASE\b)", re.IGNORECASE
)
_COPY_FROM_STDIN = re.compile(rb"^COPY\b.*\bFROM\s+stdin\b", re.IGNORECASE)
CHUNK_BYTES = 1 << 20
HEAD_BYTES = 512  # enough for the tar header's magic at byte 257


@dataclass(frozen=True)
class Backup:
    """A backup and when it was taken; `path` and `size_bytes` are None when a command reported
    only the time (a managed service's snapshot, an object store listing)."""

    path: Path | None
    taken_at: datetime
    size_bytes: int | None

    def __post_init__(self) -> None:
        if self.taken_at.tzinfo is None:
            raise ValueError("Backup.taken_at must be timezone-aware: a naive time has no age")

    def age_hours(self, now: datetime | None = None) -> float:
        """Hours since the backup was taken, at `now` (aware; default: this instant)."""
        now = datetime.now(UTC) if now is None else now
        if now.tzinfo is None:
            raise ValueError("age_hours(now=...) must be timezone-aware")
        return (now - self.taken_at).total_seconds() / 3600.0


@dataclass(frozen=True)
class SanityQuery:
    """A query returning one value, and what the value must be: at least `min`, at most `max`
    (numbers), or exactly `equals` (PostgreSQL's text form: `t` for true)."""

    name: str
    sql: str
    min: float | None = None
    max: float | None = None
    equals: str | None = None

    def __post_init__(self) -> None:
        bounded = self.min is not None or self.max is not None
        if self.equals is not None and bounded:
            raise ValueError(f"sanity query {self.name!r}: give equals, or min/max, not both")
        if self.equals is None and not bounded:
            # a query with no expectation would pass on any answer, restored or not
            raise ValueError(f"sanity query {self.name!r}: give min, max or equals")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"sanity query {self.name!r}: min {self.min:g} > max {self.max:g}")


@dataclass(frozen=True)
class SanityResult:
    """What a sanity query returned (None: NULL, no row, or the query failed) and the verdict."""

    query: SanityQuery
    value: str | None
    ok: bool
    message: str


@dataclass(frozen=True)
class RestoreResult:
    """How long the restore took (the tool alone) and each sanity query's result."""

    seconds: float
    sanity: tuple[SanityResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.sanity)


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 time with an offset, or epoch seconds, as an aware UTC datetime.

    A time without an offset is refused rather than guessed: the host that printed it may be in
    any zone, and a guess off by hours would pass or fail a freshness check on luck.
    """
    text = text.strip()
    if _EPOCH.match(text):
        seconds = float(text)
        if seconds >= MAX_EPOCH_SECONDS:
            raise ValueError(f"{text} is too large for epoch seconds (milliseconds?)")
        return datetime.fromtimestamp(seconds, UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither an ISO-8601 time nor epoch seconds") from None
    if parsed.tzinfo is None:
        raise ValueError(
            f"{text!r} has no UTC offset; print one (date -u +%Y-%m-%dT%H:%M:%SZ) "
            "or epoch seconds (date +%s)"
        )
    return parsed.astimezone(UTC)


def _is_directory_dump(path: Path) -> bool:
    return path.is_dir() and (path / "toc.dat").is_file()


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def newest_backup(pattern: str, *, base: Path | None = None) -> Backup:
    """The most recently modified file matching the glob `pattern` (`**` recurses); relative
    patterns are taken from `base` (default: the current directory). A pg_dump directory-format
    dump (a directory holding toc.dat) counts as one file. Its time is the file's mtime: when
    the backup finished writing."""
    pattern = str(Path(pattern).expanduser())
    anchor = Path(pattern).anchor
    root = Path(anchor) if anchor else (base or Path.cwd())
    relative = pattern[len(anchor) :]
    candidates: list[tuple[float, str, Path]] = []
    for path in root.glob(relative) if relative else []:
        try:
            if path.is_file() or _is_directory_dump(path):
                candidates.append((path.stat().st_mtime, path.name, path))
        except OSError:  # removed by rotation between the listing and the stat
            continue
    if not candidates:
        where = "" if anchor else f" under {root}"
        raise NoBackupFound(f"no backup matches {pattern!r}{where}")
    mtime, _, path = max(candidates)
    return Backup(path=path, taken_at=datetime.fromtimestamp(mtime, UTC), size_bytes=_size(path))


@dataclass(frozen=True)
class _Ran:
    returncode: int
    stdout: str
    stderr: str


def _run(argv: Sequence[str], timeout_s: float, what: str) -> _Ran:
    """Run argv with no stdin; on timeout kill its whole process group, since a shell's
    children would otherwise keep the pipes open and the wait going."""
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as error:
        raise BackupToolError(f"{what}: cannot run: {error.strerror or error}") from None
    with process:
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = process.communicate()
            printed = first_line(stdout) or first_line(stderr) or "nothing"
            raise BackupToolError(
                f"{what}: did not finish within {timeout_s:g} s (printed: {printed})"
            ) from None
    return _Ran(process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def backup_from_command(argv: Sequence[str] | str, *, timeout_s: float = 30.0) -> Backup:
    """The time of the newest backup as a command reports it (`aws rds describe-db-snapshots
    ... --query ...`, a script of the team's own): one line, ISO-8601 or epoch seconds.

    A string is a shell command line (run by /bin/sh, so pipes work, as an operator writes it in
    an environment file); a sequence is run as it is. Anything other than one readable time on
    stdout and exit status 0 is a `BackupToolError` (the gate could not tell when the backup was
    taken: missing evidence) naming the command and what it printed.
    """
    if isinstance(argv, str):
        shown, command = argv, ["/bin/sh", "-c", argv]
    else:
        shown, command = shlex.join(argv), list(argv)
    what = f"backup command `{shown}`"
    ran = _run(command, timeout_s, what)
    if ran.returncode != 0:
        printed = first_line(ran.stderr) or first_line(ran.stdout) or "nothing"
        raise BackupToolError(f"{what} exited {ran.returncode}: {printed}")
    lines = [line.strip() for line in ran.stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        shown_lines = f"{len(lines)} lines, the first {lines[0]!r}" if lines else "nothing"
        raise BackupToolError(f"{what} printed {shown_lines}; expected one time on one line")
    try:
        taken_at = parse_timestamp(lines[0])
    except ValueError as error:
        raise BackupToolError(f"{what} printed {error}") from None
    return Backup(path=None, taken_at=taken_at, size_bytes=None)


def judge(query: SanityQuery, value: str | None) -> SanityResult:
    """Whether `value` meets `query`'s expectation; the message says what was compared."""

    def result(ok: bool, detail: str) -> SanityResult:
        return SanityResult(query=query, value=value, ok=ok, message=f"{query.name}: {detail}")

    if value is None:
        return result(False, "returned NULL")
    if query.equals is not None:
        if value == query.equals:
            return result(True, f"{value!r} as expected")
        return result(False, f"{value!r}, expected {query.equals!r}")
    try:
        number = float(value)
    except ValueError:
        return result(False, f"{value!r} is not a number")
    if query.min is not None and number < query.min:
        return result(False, f"{value} is below the minimum {query.min:g}")
    if query.max is not None and number > query.max:
        return result(False, f"{value} is above the maximum {query.max:g}")
    bounds = [] if query.min is None else [f"min {query.min:g}"]
    bounds += [] if query.max is None else [f"max {query.max:g}"]
    return result(True, f"{value} within {', '.join(bounds)}")


def find_tool(name: str, pg_bin: Path | None = None) -> Path:
    """`pg_restore` or `psql`: from `pg_bin` if given, else the newest /usr/lib/postgresql/*/bin
    (Debian installs several side by side, and pg_restore reads no dump newer than itself),
    else PATH."""
    if pg_bin is not None:
        candidate = pg_bin / name
        if not candidate.is_file():
            raise BackupToolError(
                f"{name} not found in {pg_bin} ([database.backup] pg_bin): point it at the"
                " directory holding the PostgreSQL client tools, or remove it to search"
                " /usr/lib/postgresql/*/bin and PATH"
            )
        return candidate
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
        reverse=True,
    )
    for directory in versions:
        if (directory / name).is_file():
            return directory / name
    found = shutil.which(name)
    if found is None:
        raise BackupToolError(
            f"{name} not found in /usr/lib/postgresql/*/bin or PATH: install the PostgreSQL"
            " client tools (Debian: postgresql-client), or set [database.backup] pg_bin"
        )
    return Path(found)


def _sniff(path: Path) -> tuple[bool, bytes]:
    """Whether `path` is gzipped, and its first bytes (after gunzip): formats are told by their
    content, since a dump's name says whatever whoever took it chose."""
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
    if not head.startswith(_GZIP_MAGIC):
        return False, head
    try:
        with gzip.open(path, "rb") as unzipped:
            return True, unzipped.read(HEAD_BYTES)
    except (OSError, EOFError) as error:
        raise BackupError(f"{path}: not a readable gzip file ({error})") from None


def _is_archive(head: bytes) -> bool:
    return head.startswith(_CUSTOM_MAGIC) or head[_TAR_MAGIC_OFFSET:].startswith(b"ustar")


@contextmanager
def _open_plain(path: Path, gzipped: bool) -> Iterator[BufferedIOBase]:
    with gzip.open(path, "rb") if gzipped else path.open("rb") as file:
        yield file


def _scratch_hazard(lines: Iterable[bytes]) -> str | None:
    """The first line of a plain SQL dump that would act outside the scratch database."""
    in_copy = False
    for line in lines:
        if in_copy:
            in_copy = line.rstrip(b"\r\n") != b"\\."
        elif _COPY_FROM_STDIN.match(line):
            in_copy = True
        elif _ESCAPES_SCRATCH.match(line):
            return line.decode(errors="replace").strip()[:80]
    return None


def _feed(source: BufferedIOBase, sink: IO[bytes]) -> None:
    try:
        while chunk := source.read(CHUNK_BYTES):
            sink.write(chunk)
    except (BrokenPipeError, OSError, EOFError):
        pass  # the tool stopped reading (it failed, or was killed); its exit status says why
    finally:
        with suppress(OSError):
            sink.close()


def _restore(backup: Path, scratch_url: str, pg_bin: Path | None, timeout_s: float) -> float:
    """Run the restore tool into the scratch database; the seconds it took."""
    archive_flags = ["--no-owner", "--no-privileges", "--exit-on-error"]
    conninfo, password = split_password(scratch_url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    if backup.is_dir():
        if not _is_directory_dump(backup):
            raise BackupError(f"{backup}: a directory, but not a pg_dump directory (no toc.dat)")
        pg_restore = find_tool("pg_restore", pg_bin)
        argv = [str(pg_restore), *archive_flags, "-d", conninfo, str(backup)]
        return _run_restore(argv, env, None, timeout_s, scratch_url)
    gzipped, head = _sniff(backup)
    if not head:
        raise BackupError(f"{backup}: empty" + (" once unzipped" if gzipped else ""))
    if _is_archive(head):
        argv = [str(find_tool("pg_restore", pg_bin)), *archive_flags, "-d", conninfo]
        # gzipped, pg_restore reads the archive from stdin (fine for custom and tar formats)
        argv += [] if gzipped else [str(backup)]
    else:
        with _open_plain(backup, gzipped) as lines:
            hazard = _scratch_hazard(lines)
        if hazard is not None:
            raise BackupError(
                f"{backup}: refusing to restore a dump that leaves its database ({hazard!r}); "
                "take it with pg_dump without --create"
            )
        argv = [str(find_tool("psql", pg_bin)), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        argv += ["-d", conninfo] + ([] if gzipped else ["-f", str(backup)])
    return _run_restore(argv, env, backup if gzipped else None, timeout_s, scratch_url)


def _run_restore(
    argv: list[str], env: dict[str, str], stdin_path: Path | None, timeout_s: float, url: str
) -> float:
    """Run a restore tool (fed the unzipped `stdin_path`, if given); the seconds it took."""
    tool = Path(argv[0]).name
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin_path else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # psql prints the dump's SELECTs; nothing to keep
                stderr=stderr,
                env=env,
                start_new_session=True,
            )
        except OSError as error:
            raise BackupToolError(
                f"{argv[0]}: cannot run: {error.strerror or error} (check the PostgreSQL client"
                " tools, or [database.backup] pg_bin)"
            ) from None
        feeder: threading.Thread | None = None
        source_context = _open_plain(stdin_path, gzipped=True) if stdin_path else _nothing()
        with process, source_context as source:
            if source is not None and process.stdin is not None:
                # a thread writes stdin while this one waits, so a tool that fails early is seen
                feeder = threading.Thread(target=_feed, args=(source, process.stdin), daemon=True)
                feeder.start()
            try:
                returncode = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                process.wait()
                raise BackupToolError(
                    f"{tool} did not finish restoring {stdin_path or argv[-1]} within"
                    f" {timeout_s:g} s: the backup was not judged (raise [database.backup]"
                    " restore_timeout if a restore of this size needs longer)"
                ) from None
            finally:
                if feeder is not None:
                    feeder.join()
        seconds = time.perf_counter() - started
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    if returncode != 0:
        lines = [line.strip() for line in errors.splitlines() if line.strip()]
        shown = scrub(" / ".join(lines[:STDERR_LINES]) or "no message", url)
        backup = stdin_path or argv[-1]
        if restore_failure_is_the_tools(tool, returncode, errors):
            raise BackupToolError(
                f"{tool} failed restoring {backup} (exit status {returncode}): {shown}: the gate"
                " could not judge the backup (check the client tools' version, [database.backup]"
                " pg_bin, and the connection to the server)"
            )
        raise BackupError(f"{backup} does not restore: {tool} exited {returncode}: {shown}")
    return seconds


# What pg_restore and psql print when the fault is theirs or the connection's, not the dump's.
_TOOL_TROUBLE = (
    "unsupported version",  # pg_restore older than the pg_dump that wrote the archive
    "connection to server",  # could not connect, or the connection was lost midway
    "could not connect",
    "server closed the connection",
    "out of memory",
)
# psql's exit statuses: 1 a fatal error of its own, 2 the connection went bad, 3 a statement of
# the script failed (ON_ERROR_STOP): only 3 says something about the dump.
PSQL_SCRIPT_FAILED = 3


def restore_failure_is_the_tools(tool: str, returncode: int, stderr: str) -> bool:
    """Whether a restore tool's non-zero exit is the gate's own failure (missing evidence)
    rather than the dump's (a finding): killed by a signal, psql failing for a reason other
    than a statement of the script, a client too old for the archive, a lost connection."""
    if returncode < 0:  # killed by a signal: it crashed or was killed, the dump is not judged
        return True
    if tool == "psql" and returncode != PSQL_SCRIPT_FAILED:
        return True
    lowered = stderr.lower()
    return any(marker in lowered for marker in _TOOL_TROUBLE)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _sanity(url: str, queries: Sequence[SanityQuery], timeout_s: float) -> list[SanityResult]:
    results: list[SanityResult] = []
    with connect(url, timeout_s=10) as connection:
        connection.execute(
            "SELECT set_config('statement_timeout', %s, false)",
            (f"{max(1, round(timeout_s * 1000))}ms",),
        )
        for query in queries:
            try:
                value = one_value(connection, query.sql)
            except psycopg.OperationalError as error:
                # a statement timeout or a lost connection: the query was not answered, which
                # says nothing about the restored data (a missing table is a ProgrammingError)
                raise BackupToolError(
                    f"sanity query {query.name!r} could not run on the restored backup:"
                    f" {scrub(first_line(str(error)), url)} (the restore itself succeeded;"
                    " raise [database.backup] restore_timeout if the query needs longer)"
                ) from None
            except psycopg.Error as error:
                cause = scrub(first_line(str(error)), url)
                results.append(SanityResult(query, None, False, f"{query.name}: failed: {cause}"))
            except ValueError as error:
                results.append(SanityResult(query, None, False, f"{query.name}: {error}"))
            else:
                results.append(judge(query, value))
    return results


def restore_and_check(
    url: str,
    backup: Path,
    sanity: Sequence[SanityQuery],
    *,
    pg_bin: Path | None = None,
    timeout_s: float = 600.0,
) -> RestoreResult:
    """Restore `backup` into a scratch database on `url`'s server and run the sanity queries.

    pg_dump's archive formats (custom, tar, directory; also gzipped) go through pg_restore, plain
    SQL (or .sql.gz) through psql with ON_ERROR_STOP. pg_restore leaves out owners and privileges,
    so roles missing on this server do not fail the check; a plain dump runs as written, so take
    it with `pg_dump --no-owner --no-privileges` if its roles may be missing here. A plain dump
    that would leave the scratch database (\\connect, CREATE DATABASE) is refused before anything
    runs. `timeout_s` bounds the restore and each sanity query; the scratch database is dropped
    whatever happens.
    """
    if not backup.exists():
        raise BackupError(f"{backup}: no such file")
    with scratch_database(url, prefix="releasegate_restore") as scratch:
        seconds = _restore(backup, scratch, pg_bin, timeout_s)
        results = _sanity(scratch, sanity, timeout_s)
    return RestoreResult(seconds=seconds, sanity=tuple(results))
