"""`releasegate target serve` (also `python -m releasegate.target`): start the reference service.

Bad input (a bad fault, a port in use, an unusable database URL) is one line on stderr and exit
code 3, the CLI's usage/configuration error, never a traceback.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from releasegate.target.faults import FAULT_FORMS, FaultError, parse_faults
from releasegate.target.settings import (
    ADMIN_TOKEN_VAR,
    API_TOKEN_VAR,
    DATABASE_URL_VAR,
    DEFAULT_API_TOKEN,
    FAULTS_VAR,
    PARENT_PID_VAR,
    ServiceSettings,
)

USAGE_ERROR = 3
DEFAULT_RATE = 200.0
DEFAULT_BURST = 400


def _fail(message: str) -> NoReturn:
    click.echo(f"releasegate target serve: error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def parse_rate_limit(text: str) -> tuple[float, int]:
    """`RPS[:BURST]` -> (rate, burst); the burst defaults to two seconds' worth (at least 1).

    A rate of 0 turns the limit off. ValueError with the reason when the text is wrong.
    """
    rate_text, colon, burst_text = text.strip().partition(":")
    try:
        rate = float(rate_text)
        burst = int(burst_text) if colon else None
    except ValueError:
        raise ValueError(f"{text!r} is not RPS or RPS:BURST, e.g. 200 or 200:400") from None
    if not (0 <= rate < math.inf) or (burst is not None and burst < 1):
        raise ValueError(f"{text!r}: the rate must be a number >= 0 and the burst >= 1")
    return rate, burst if burst is not None else max(1, round(rate * 2))


def _parent_pid() -> int | None:
    text = os.environ.get(PARENT_PID_VAR, "")
    return int(text) if text.isdigit() else None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (announced on the first line).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME[=VALUE]",
    help=f"Switch a fault on (repeatable; also ${FAULTS_VAR}, comma-separated): "
    + ", ".join(FAULT_FORMS),
)
@click.option(
    "--database-url",
    default="sqlite://",
    show_default=True,
    envvar=DATABASE_URL_VAR,
    help="SQLAlchemy URL: sqlite:// (in memory), sqlite:///path.db, "
    f"postgresql+psycopg://user@host/db (also ${DATABASE_URL_VAR}, which keeps a password "
    "out of the process list).",
)
@click.option(
    "--service-version", default="1.0.0", show_default=True, help="What /api/version reports."
)
@click.option(
    "--rate-limit",
    default=None,
    metavar="RPS[:BURST]",
    help=f"Per-client limit on /api/* (default {DEFAULT_RATE:g}:{DEFAULT_BURST}; 0 turns it off).",
)
@click.option("--seed", type=int, default=None, help="Seed the random faults, for repeatable runs.")
def serve_command(
    host: str,
    port: int,
    faults: Sequence[str],
    database_url: str,
    service_version: str,
    rate_limit: str | None,
    seed: int | None,
) -> None:
    """Start the reference service: a small real web app with switchable faults.

    Tokens come from the environment, never the command line (where `ps` shows them):
    RELEASEGATE_TARGET_API_TOKEN is the API's bearer token (default local-demo-token);
    RELEASEGATE_ADMIN_TOKEN enables /_admin/faults (without it, /_admin answers 403).
    """
    # aiohttp and SQLAlchemy load only to serve, not for `releasegate --help`
    from releasegate.target.database import DatabaseError, DatabaseUrlError, safe_url
    from releasegate.target.server import run

    try:
        fault_set = parse_faults([os.environ.get(FAULTS_VAR, ""), *faults])
    except FaultError as exc:
        _fail(str(exc))
    try:
        rate, burst = parse_rate_limit(rate_limit) if rate_limit else (DEFAULT_RATE, DEFAULT_BURST)
    except ValueError as exc:
        _fail(f"--rate-limit {exc}")
    settings = ServiceSettings(
        host=host,
        port=port,
        faults=fault_set,
        database_url=database_url,
        version=service_version,
        api_token=os.environ.get(API_TOKEN_VAR) or DEFAULT_API_TOKEN,
        admin_token=os.environ.get(ADMIN_TOKEN_VAR) or None,
        rate_limit_per_s=rate,
        rate_limit_burst=burst,
        seed=seed,
    )
    # Errors to stderr, and quiet otherwise: the access log is off.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="releasegate target: %(message)s"
    )

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # a launcher waits for this line on a pipe

    try:
        run(settings, announce=announce, parent_pid=_parent_pid())
    except DatabaseUrlError as exc:
        _fail(f"--database-url {exc}")
    except DatabaseError as exc:
        _fail(f"database {safe_url(database_url)} is not usable: {exc}")
    except OSError as exc:
        _fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass  # a second Ctrl-C during shutdown: already stopping


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m releasegate.target`: like `releasegate target serve`, usage errors included
    (one line, exit 3, where click alone would exit 2)."""
    try:
        serve_command.main(
            args=list(argv) if argv is not None else None,
            prog_name="python -m releasegate.target",
            standalone_mode=False,
        )
    except click.ClickException as exc:
        _fail(exc.format_message())
    except click.exceptions.Abort:
        sys.exit(130)  # interrupted, as a shell reports it
