"""Where `[[logs]]` read the lines written since the deploy started.

- `command`: its stdout, every line (the command selects by `{since}` itself, as
  `docker compose logs --since {since}` and `kubectl logs --since-time={since}` do);
- `file`: a path or glob; a line counts when the time it starts with (ISO 8601, Python's
  logging, nginx's error log, the common log format, syslog; a zone-less time is this machine's
  local time) is in or after the second the deploy started, and a line without a time (a
  traceback's) goes with the line before it; a file last written before the start has no new
  lines;
- `journald`: `journalctl -u UNIT --since @EPOCH -o cat`.

A source that cannot be read raises `LogUnreadable`: never a pass.
"""

from __future__ import annotations

import glob
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

from releasegate.config import LogCheck
from releasegate.config.strict_base import Command, show_command
from releasegate.errors import LogUnreadable
from releasegate.metrics.command_run import run_capturing

# only the end of a big file is read: lines written during one deploy fit in it
MAX_READ_BYTES = 64 * 1024 * 1024
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s*(Z|[+-]\d\d:?\d\d)?"
)
_SLASHED = re.compile(r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)")
_COMMON = re.compile(r"\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")
_SYSLOG = re.compile(r"^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)")
# a line's time is near its start (after a level or an address at most)
_HEAD = 80


def _zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _dated(naive: datetime, zone: tzinfo | None) -> datetime:
    if zone is None:
        return naive.astimezone(UTC)  # a zone-less time is this machine's local time
    return naive.replace(tzinfo=zone).astimezone(UTC)


def line_time(line: str, now: datetime | None = None) -> datetime | None:
    """The time a log line starts with, in UTC; None when it has none we read."""
    head = line[:_HEAD]
    try:
        if m := _ISO.search(head):
            y, mo, d, hh, mm, ss = (int(g) for g in m.groups()[:6])
            micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
            return _dated(datetime(y, mo, d, hh, mm, ss, micros), _zone(m.group(8)))
        if m := _SLASHED.search(head):
            y, mo, d, hh, mm, ss = (int(g) for g in m.groups())
            return _dated(datetime(y, mo, d, hh, mm, ss), None)
        if m := _COMMON.search(head):
            g = m.groups()
            naive = datetime(int(g[2]), _MONTHS[g[1]], int(g[0]), int(g[3]), int(g[4]), int(g[5]))
            return _dated(naive, _zone(g[6]))
        if m := _SYSLOG.search(head):
            g = m.groups()
            year = (now or datetime.now(UTC)).year
            naive = datetime(year, _MONTHS[g[0]], int(g[1]), int(g[2]), int(g[3]), int(g[4]))
            return _dated(naive, None)
    except (ValueError, KeyError):
        return None
    return None


def lines_since(lines: Iterable[str], since: datetime) -> tuple[list[str], bool]:
    """The lines at or after `since` (an undated line goes with the one before it), and
    whether any line had a time at all."""
    kept: list[str] = []
    current: bool | None = None  # before the first dated line: unknown
    dated = False
    # many logs write whole seconds (nginx, syslog): a line of the second the deploy started
    # in counts, rather than miss what the deploy's first moments wrote
    floor = since.replace(microsecond=0)
    for line in lines:
        when = line_time(line)
        if when is not None:
            dated = True
            current = when >= floor
        if current:
            kept.append(line)
    return kept, dated


def placeholders(text: str, since: datetime, run_dir: Path) -> str:
    return (
        text.replace("{since}", since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        .replace("{since_epoch}", str(int(since.timestamp())))
        .replace("{run_dir}", str(run_dir))
    )


def _filled(command: Command, since: datetime, run_dir: Path) -> Command:
    if isinstance(command, str):
        return placeholders(command, since, run_dir)
    return [placeholders(part, since, run_dir) for part in command]


def _command_lines(command: Command, timeout_s: float, cwd: Path) -> list[str]:
    ran = run_capturing(command, timeout_s=timeout_s, cwd=cwd)
    if ran.problem is not None:
        raise LogUnreadable(f"command `{show_command(command)}`: {ran.problem}")
    return ran.stdout.splitlines()


def _read_tail(path: Path) -> list[str]:
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - MAX_READ_BYTES))
        data = handle.read()
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[1:] if size > MAX_READ_BYTES else lines  # the first may be cut


def _file_lines(pattern: str, since: datetime) -> tuple[list[str], list[str]]:
    """New lines of every file matching `pattern`, and the files read."""
    paths = sorted(glob.glob(pattern))  # noqa: PTH207 - a user's glob, absolute or relative
    if not paths:
        raise LogUnreadable(f"no file matches {pattern}")
    kept: list[str] = []
    for name in paths:
        path = Path(name)
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if modified < since:
                continue  # not written since the deploy started
            new, dated = lines_since(_read_tail(path), since)
        except OSError as exc:
            raise LogUnreadable(f"{path}: {exc.strerror or exc}") from None
        if not dated and new == [] and path.stat().st_size > 0:
            raise LogUnreadable(
                f"{path}: no line starts with a time, so the lines written since the deploy"
                ' cannot be told from older ones; use source = "command" with a command that'
                " selects them"
            )
        kept += new
    return kept, paths


def read_new_lines(check: LogCheck, *, since: datetime, run_dir: Path, cwd: Path) -> list[str]:
    """The lines of `check`'s source written since `since`."""
    if check.source == "command":
        assert check.command is not None
        return _command_lines(_filled(check.command, since, run_dir), check.timeout, cwd)
    if check.source == "file":
        assert check.file is not None
        pattern = placeholders(check.file, since, run_dir)
        if not Path(pattern).is_absolute():
            pattern = str(cwd / pattern)
        return _file_lines(pattern, since)[0]
    assert check.unit is not None
    if shutil.which("journalctl") is None:
        raise LogUnreadable('journalctl is not installed on this machine (source = "journald")')
    argv = ["journalctl", "-u", check.unit, "--since", f"@{int(since.timestamp())}"]
    return _command_lines([*argv, "-o", "cat", "--no-pager", "-q"], check.timeout, cwd)
