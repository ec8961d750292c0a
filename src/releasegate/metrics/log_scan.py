"""A `[[logs]]` check judged: the new lines matching `pattern` and none of `ignore`, at most
`max` of them. The message gives the count and the first few lines, masked and shortened."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from releasegate.config import LogCheck
from releasegate.outcome import Judged
from releasegate.redact import Redactor

SHOWN_LINES = 3
LINE_CHARS = 200


@dataclass(frozen=True)
class LogFindings:
    """What the scan found: lines read, lines matching (masked, shortened)."""

    read: int
    matching: list[str]


def scan(check: LogCheck, lines: Sequence[str], redactor: Redactor) -> LogFindings:
    pattern = re.compile(check.pattern)
    ignored = [re.compile(p) for p in check.ignore]
    matching = [
        line for line in lines if pattern.search(line) and not any(i.search(line) for i in ignored)
    ]
    shown = [redactor.redact(line.strip())[:LINE_CHARS] for line in matching]
    return LogFindings(read=len(lines), matching=shown)


def judge_log(check: LogCheck, found: LogFindings, since: str) -> Judged:
    count = len(found.matching)
    head = f"{check.name}: {count} of {found.read} lines since {since} match `{check.pattern}`"
    if count <= check.max:
        return Judged.passed(f"{head} (max {check.max})", measured=count, limit=check.max)
    first = " | ".join(found.matching[:SHOWN_LINES])
    more = f" (+{count - SHOWN_LINES} more)" if count > SHOWN_LINES else ""
    return Judged.failed(
        f"{head}, over max {check.max}: {first}{more}",
        measured=count,
        limit=check.max,
        samples=found.read,
    )
