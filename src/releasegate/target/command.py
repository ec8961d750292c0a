"""`releasegate target serve`: start the reference service (also `python -m releasegate.target`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import replace

import click

from releasegate.target.faults import FaultError, parse_faults
from releasegate.target.settings import (
    ADMIN_TOKEN_VAR,
    API_TOKEN_VAR,
    DEFAULT_API_TOKEN,
    FAULTS_VAR,
    ServiceSettings,
)

USAGE_ERROR = 3


def _fail(message: str) -> None:
    click.echo(f"releasegate target serve: error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def _rate_limit(text: str | None) -> tuple[float, int] | None:
    if text is None:
        return None
    rate_text, _, burst_text = text.partition(":")
    try:
        rate = float(rate_text)
        burst = int(burst_text) if burst_text else max(1, int(rate * 2))
    except ValueError:
        _fail(f"--rate-limit {text!r}: write RPS or RPS:BURST, e.g. 200:400 (0 turns it off)")
        raise  # unreachable: _fail exits
    if rate < 0 or burst < 1:
        _fail(f"--rate-limit {text!r}: the rate must be >= 0 and the burst >= 1")
    return rate, burst


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=int, help="port; 0 picks a free one")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME[=VALUE]",
    help=f"switch a fault on (repeatable; also ${FAULTS_VAR}, comma-separated)",
)
@click.option(
    "--database-url",
    default="sqlite://",
    show_default=True,
    help="SQLAlchemy URL: sqlite:///path.db, postgresql+psycopg://user@host/db",
)
@click.option(
    "--service-version", default="1.0.0", show_default=True, help="what /api/version reports"
)
@click.option(
    "--rate-limit",
    default=None,
    metavar="RPS[:BURST]",
    help="per-client limit on /api (default 200:400; 0 turns it off)",
)
@click.option("--seed", type=int, default=None, help="seed the random faults, for repeatable runs")
def serve_command(
    host: str,
    port: int,
    faults: Sequence[str],
    database_url: str,
    service_version: str,
    rate_limit: str | None,
    seed: int | None,
) -> None:
    """Start the reference service. Tokens come from the environment, never the command line:
    RELEASEGATE_TARGET_API_TOKEN (the API's bearer token) and RELEASEGATE_ADMIN_TOKEN (enables
    POST /_admin/faults)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from releasegate.target.server import run

    try:
        fault_set = parse_faults([os.environ.get(FAULTS_VAR, ""), *faults])
    except FaultError as exc:
        _fail(str(exc))
        return
    settings = ServiceSettings(
        host=host,
        port=port,
        faults=fault_set,
        database_url=database_url,
        version=service_version,
        api_token=os.environ.get(API_TOKEN_VAR) or DEFAULT_API_TOKEN,
        admin_token=os.environ.get(ADMIN_TOKEN_VAR) or None,
        seed=seed,
    )
    limit = _rate_limit(rate_limit)
    if limit is not None:
        settings = replace(settings, rate_limit_per_s=limit[0], rate_limit_burst=limit[1])

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # the launcher waits for this line on a pipe

    try:
        run(settings, announce=announce)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    except (ArgumentError, NoSuchModuleError) as exc:
        _fail(f"--database-url: {exc}")
    except Exception as exc:
        from releasegate.target.database import DatabaseError

        if isinstance(exc, DatabaseError):
            _fail(f"database at --database-url is not usable: {exc}")
        raise
