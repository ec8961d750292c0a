"""The service's log file (`serve --log-file PATH`): what log checks read.

Lines are `%(asctime)s %(levelname)s %(name)s: %(message)s` (local time, `2026-12-04
13:00:00,123`), appended by Python logging. Three loggers write only there, never to stderr:

- `releasegate.target.access`: one INFO line per answered request (method, route template,
  status, milliseconds: words a log check for errors never matches), ERROR for a 5xx answer;
- `releasegate.target.jobs`: the job queue's failures and pauses;
- `releasegate.target.email`: the simulated mail relay, whose ERROR lines with a traceback are
  the `log-errors` fault.

The service's own logger, `releasegate.target` (an unhandled exception, with its traceback; a
listener that cannot reopen), goes to stderr as before and to the file as well. Without a log
file the three are silent: INFO lines are not even formatted, and nothing is written anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

SERVICE = logging.getLogger("releasegate.target")
ACCESS = logging.getLogger("releasegate.target.access")
JOBS = logging.getLogger("releasegate.target.jobs")
EMAIL = logging.getLogger("releasegate.target.email")
_FILE_ONLY = (ACCESS, JOBS, EMAIL)

for _logger in _FILE_ONLY:
    _logger.propagate = False
    # with no handler at all, logging would print their warnings to stderr as a last resort
    _logger.addHandler(logging.NullHandler())


def prepare_log_file(path: Path) -> None:
    """Create the file's folders and check that it can be appended to (OSError otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8"):
        pass


@contextmanager
def logging_to(path: Path | None) -> Iterator[None]:
    """While the block runs, the service's log lines are appended to `path` (nothing when
    None); afterwards the loggers are as they were and the file is closed."""
    if path is None:
        yield
        return
    prepare_log_file(path)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    levels = {logger: logger.level for logger in _FILE_ONLY}
    for logger in (SERVICE, *_FILE_ONLY):
        logger.addHandler(handler)
    for logger in _FILE_ONLY:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger in (SERVICE, *_FILE_ONLY):
            logger.removeHandler(handler)
        for logger, level in levels.items():
            logger.setLevel(level)
        handler.close()
