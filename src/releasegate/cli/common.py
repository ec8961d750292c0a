"""What every `releasegate` command module shares: the one-line error and the reports option."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from releasegate.evidence.decide import ExitCode
from releasegate.ops.bundled_gates import bundled_suites

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


def _suites_or_bundled(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    """`--suites`, else ./suites (a checkout of releasegate, or a repository with its own copy),
    else the gates installed with releasegate."""
    if value is not None:
        return value
    local = Path("suites")
    return local if local.is_dir() else (bundled_suites() or local)


suites_option = click.option(
    "--suites",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_suites_or_bundled,
    help="where the gate suites are (default: ./suites if there is one, else the gates"
    " installed with releasegate)",
)
