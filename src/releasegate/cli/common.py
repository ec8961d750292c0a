"""What every `releasegate` command module shares: the one-line error and the reports option."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from releasegate.evidence.decide import ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = ExitCode.USAGE) -> NoReturn:
    """One line on stderr, no traceback, and the exit code (3: usage or configuration)."""
    click.echo(f"releasegate: error: {message}", err=True)
    sys.exit(code)


def reports_dir_option(help_text: str = "where runs are written and read") -> Callable[[F], F]:
    """`--reports-dir`, default `reports`."""
    return click.option(
        "--reports-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("reports"),
        show_default=True,
        help=help_text,
    )


suites_option = click.option(
    "--suites",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("suites"),
    show_default=True,
    help="where the gate suites are",
)
