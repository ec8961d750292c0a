"""`[[logs]]`: which lines are new (times in the formats real logs write), which match, what the
check says, and sources that cannot be read (never a pass)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.config import LogCheck
from releasegate.errors import LogUnreadable
from releasegate.metrics.log_scan import judge_log, scan
from releasegate.metrics.log_sources import line_time, lines_since, read_new_lines
from releasegate.outcome import Judgement
from releasegate.redact import Redactor

SINCE = datetime(2026, 12, 4, 13, 0, 0, tzinfo=UTC)


def _local(text: str) -> datetime:
    """A zone-less time as this machine reads it (local time), in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2026-12-04T13:00:05Z ERROR boom", datetime(2026, 12, 4, 13, 0, 5, tzinfo=UTC)),
        ("2026-12-04T14:00:05+01:00 x", datetime(2026, 12, 4, 13, 0, 5, tzinfo=UTC)),
        ("2026-12-04 13:00:05,123 ERROR app: boom", _local("2026-12-04 13:00:05.123")),
        ("2026/12/04 13:00:05 [error] 12#12: *1 open()", _local("2026-12-04 13:00:05")),
        (
            '127.0.0.1 - - [04/Dec/2026:13:00:05 +0000] "GET / HTTP/1.1" 500 12',
            datetime(2026, 12, 4, 13, 0, 5, tzinfo=UTC),
        ),
        ("web_1  | 2026-12-04T13:00:05.5Z INFO up", datetime(2026, 12, 4, 13, 0, 5, 500000, UTC)),
        ("Traceback (most recent call last):", None),
        ("    raise ValueError('x')", None),
    ],
)
def test_a_lines_time_is_read_from_its_start(line: str, expected: datetime | None) -> None:
    assert line_time(line) == expected


def test_lines_before_the_deploy_are_left_out_and_a_traceback_goes_with_its_line() -> None:
    old = (SINCE - timedelta(minutes=5)).isoformat()
    new = (SINCE + timedelta(seconds=5)).isoformat()
    lines = [
        f"{old} ERROR before the deploy",
        "Traceback (most recent call last):",
        f"{new} ERROR after it",
        "Traceback (most recent call last):",
        "ValueError: boom",
    ]

    kept, dated = lines_since(lines, SINCE)

    assert kept == lines[2:]
    assert dated


def _check(**keys: object) -> LogCheck:
    return LogCheck.model_validate({"name": "app log", "source": "file", **keys})


def test_a_file_gives_its_new_matching_lines(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    old = (SINCE - timedelta(minutes=1)).isoformat()
    new = (SINCE + timedelta(seconds=1)).isoformat()
    log.write_text(
        f"{old} ERROR old\n{new} INFO GET / 200\n{new} ERROR db: timeout\n"
        f"{new} WARNING DeprecationWarning: error in future\n"
    )
    check = _check(file=str(tmp_path / "*.log"), ignore=["DeprecationWarning"])

    lines = read_new_lines(check, since=SINCE, run_dir=tmp_path, cwd=tmp_path)
    found = scan(check, lines, Redactor.of(frozenset()))

    assert found.read == 3
    assert found.matching == [f"{new} ERROR db: timeout"]


def test_a_file_last_written_before_the_deploy_has_no_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("2026-12-04T12:00:00Z ERROR old\n")
    before = (SINCE - timedelta(hours=1)).timestamp()
    os.utime(log, (before, before))

    assert read_new_lines(_check(file=str(log)), since=SINCE, run_dir=tmp_path, cwd=tmp_path) == []


def test_a_relative_file_is_read_from_the_repository_and_run_dir_is_filled(tmp_path: Path) -> None:
    run_dir = tmp_path / "reports" / "run-1"
    run_dir.mkdir(parents=True)
    (run_dir / "service.log").write_text(f"{SINCE.isoformat()} ERROR x\n")

    check = _check(file="{run_dir}/service.log")

    assert read_new_lines(check, since=SINCE, run_dir=run_dir, cwd=tmp_path) != []


def test_no_file_matching_is_unreadable_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(LogUnreadable, match=r"no file matches .*missing-\*\.log"):
        read_new_lines(_check(file="missing-*.log"), since=SINCE, run_dir=tmp_path, cwd=tmp_path)


def test_a_file_without_times_is_unreadable_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "plain.log").write_text("ERROR one\nERROR two\n")

    with pytest.raises(LogUnreadable, match='use source = "command"'):
        read_new_lines(_check(file="plain.log"), since=SINCE, run_dir=tmp_path, cwd=tmp_path)


def test_a_command_gets_the_deploys_start_and_gives_every_line(tmp_path: Path) -> None:
    code = "import sys; print('ERROR since', sys.argv[1]); print('INFO fine')"
    check = LogCheck.model_validate(
        {
            "name": "compose logs",
            "source": "command",
            "command": [sys.executable, "-c", code, "{since}"],
        }
    )

    lines = read_new_lines(check, since=SINCE, run_dir=tmp_path, cwd=tmp_path)

    assert lines == ["ERROR since 2026-12-04T13:00:00Z", "INFO fine"]


def test_a_command_that_fails_is_unreadable(tmp_path: Path) -> None:
    check = LogCheck.model_validate(
        {"name": "x", "source": "command", "command": [sys.executable, "-c", "exit(1)"]}
    )

    with pytest.raises(LogUnreadable, match="exit status 1"):
        read_new_lines(check, since=SINCE, run_dir=tmp_path, cwd=tmp_path)


def test_matching_lines_over_max_fail_with_the_first_lines_masked() -> None:
    check = _check(file="x.log")
    lines = [f"ERROR token=s3cr3t-value-123 failed {n}" for n in range(5)]

    found = scan(check, lines, Redactor.of(frozenset({"s3cr3t-value-123"})))
    judged = judge_log(check, found, "13:00:00 (this run started)")

    assert judged.judgement is Judgement.FAIL
    assert "5 of 5 lines" in judged.message
    assert "(+2 more)" in judged.message
    assert "s3cr3t-value-123" not in judged.message


def test_lines_within_max_pass() -> None:
    check = _check(file="x.log", max=1)

    judged = judge_log(check, scan(check, ["ERROR once", "INFO"], Redactor.of(frozenset())), "t")

    assert judged.judgement is Judgement.PASS
