"""`releasegate target serve` (also `python -m releasegate.target`): start the reference service;
`releasegate target restart`: restart one started with `serve --supervise`.

Bad input (a bad fault, a port in use, an unusable database URL) is one line on stderr and exit
code 3, the CLI's usage/configuration error, never a traceback.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import click

from releasegate.target.faults import FAULT_FORMS, FaultError, parse_faults
from releasegate.target.settings import (
    ADMIN_TOKEN_VAR,
    API_TOKEN_VAR,
    DATABASE_URL_VAR,
    DEFAULT_API_TOKEN,
    DEFAULT_DEMO_PASSWORD,
    DEMO_PASSWORD_VAR,
    FAULTS_VAR,
    PARENT_PID_VAR,
    ServiceSettings,
)
from releasegate.target.supervisor import (
    DEFAULT_RESTART_GAP_S,
    DEFAULT_RESTART_TIMEOUT_S,
    RestartError,
    Supervisor,
    SupervisorError,
    request_restart,
)
from releasegate.units import parse_duration

USAGE_ERROR = 3
DEFAULT_RATE = 200.0
DEFAULT_BURST = 400


def _fail(message: str, code: int = USAGE_ERROR, command: str = "serve") -> NoReturn:
    click.echo(f"releasegate target {command}: error: {message}", err=True)
    sys.exit(code)


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


def worker_argv(
    *,
    host: str,
    faults: Sequence[str],
    service_version: str,
    rate_limit: str | None,
    seed: int | None,
    log_file: Path | None = None,
) -> list[str]:
    """The command a supervisor starts each worker with: the options `serve` was given, so that
    every generation has the same faults, version, rate limit, seed and log file. No secrets:
    tokens and the database URL reach the worker through its environment, as they reached the
    supervisor.
    """
    argv = [sys.executable, "-m", "releasegate.target", "--host", host]
    for fault in faults:
        argv += ["--fault", fault]
    argv += ["--service-version", service_version]
    if rate_limit is not None:
        argv += ["--rate-limit", rate_limit]
    if seed is not None:
        argv += ["--seed", str(seed)]
    if log_file is not None:
        argv += ["--log-file", str(log_file)]
    return argv


def _duration(option: str, text: str, command: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        _fail(f"{option} {exc}", command=command)


def _usable_log_file(path: Path) -> Path:
    # checked here, so that a path that cannot be written is a one-line usage error; absolute,
    # so that every worker of a supervisor appends to the same file
    from releasegate.target.service_log import prepare_log_file

    try:
        prepare_log_file(path)
    except OSError as exc:
        _fail(f"--log-file {path}: {exc.strerror or exc}")
    return path.absolute()


def _inherited_sockets(fds: Sequence[int]) -> list[socket.socket]:
    sockets = []
    for fd in fds:
        try:
            sockets.append(socket.socket(fileno=fd))
        except OSError as exc:
            _fail(f"--listen-fd {fd} is not a usable socket: {exc.strerror or exc}")
    return sockets


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
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append the service's log lines to this file (its folders are created): one INFO "
    "line per request, ERROR lines for 5xx answers and failures. Without it, no log file.",
)
@click.option(
    "--supervise",
    is_flag=True,
    help="Run it under a supervisor that owns the port and can restart it: SIGHUP gracefully "
    "(no request fails), SIGUSR2 abruptly (stop, then start). Needs --state-file; see "
    "`releasegate target restart`.",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --supervise: where the supervisor writes its pid, its worker's and the restart "
    "count (JSON), for `releasegate target restart`.",
)
@click.option(
    "--restart-gap",
    default=None,
    metavar="DURATION",
    help=f"With --supervise: how long an abrupt restart refuses connections "
    f"(default {DEFAULT_RESTART_GAP_S:g}s).",
)
# the sockets a supervisor passes to its worker
@click.option("--listen-fd", "listen_fds", multiple=True, type=int, hidden=True)
def serve_command(
    host: str,
    port: int,
    faults: Sequence[str],
    database_url: str,
    service_version: str,
    rate_limit: str | None,
    seed: int | None,
    log_file: Path | None,
    supervise: bool,
    state_file: Path | None,
    restart_gap: str | None,
    listen_fds: Sequence[int],
) -> None:
    """Start the reference service: a small real web app with switchable faults.

    Tokens come from the environment, never the command line (where `ps` shows them):
    RELEASEGATE_TARGET_API_TOKEN is the API's bearer token (default local-demo-token);
    RELEASEGATE_ADMIN_TOKEN enables /_admin/faults (without it, /_admin answers 403).
    """
    if not supervise and (state_file is not None or restart_gap is not None):
        _fail("--state-file and --restart-gap go with --supervise")
    if supervise and state_file is None:
        _fail("--supervise needs --state-file PATH (where `releasegate target restart` looks)")
    if supervise and listen_fds:
        _fail("--supervise binds its own sockets: it takes no --listen-fd")
    gap_s = _duration("--restart-gap", restart_gap, "serve") if restart_gap else None
    sockets = _inherited_sockets(listen_fds)
    if sockets:
        port = int(sockets[0].getsockname()[1])
    try:
        fault_set = parse_faults([os.environ.get(FAULTS_VAR, ""), *faults])
    except FaultError as exc:
        _fail(str(exc))
    try:
        rate, burst = parse_rate_limit(rate_limit) if rate_limit else (DEFAULT_RATE, DEFAULT_BURST)
    except ValueError as exc:
        _fail(f"--rate-limit {exc}")
    if log_file is not None:
        log_file = _usable_log_file(log_file)
    settings = ServiceSettings(
        host=host,
        port=port,
        faults=fault_set,
        database_url=database_url,
        version=service_version,
        api_token=os.environ.get(API_TOKEN_VAR) or DEFAULT_API_TOKEN,
        admin_token=os.environ.get(ADMIN_TOKEN_VAR) or None,
        demo_password=os.environ.get(DEMO_PASSWORD_VAR) or DEFAULT_DEMO_PASSWORD,
        rate_limit_per_s=rate,
        rate_limit_burst=burst,
        seed=seed,
        log_file=log_file,
    )
    # Errors to stderr, and quiet otherwise: the access log is off.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="releasegate target: %(message)s"
    )

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()  # a launcher waits for this line on a pipe

    if state_file is not None:  # only with --supervise, checked above
        argv = worker_argv(
            host=host,
            faults=faults,
            service_version=service_version,
            rate_limit=rate_limit,
            seed=seed,
            log_file=log_file,
        )
        _supervise(settings, argv, state_file, gap_s, say)
    # aiohttp and SQLAlchemy load only to serve (in a worker, not in its supervisor), not for
    # `releasegate --help`
    from releasegate.target.server import run
    from releasegate.target.tickets_store import DatabaseError, DatabaseUrlError, safe_url

    def announce(line: str) -> None:
        say(line)
        if sockets:
            # The supervisor reads this one line and closes its end of the pipe: anything
            # written later would fail, so later output goes nowhere.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    try:
        run(settings, announce=announce, parent_pid=_parent_pid(), sockets=sockets)
    except DatabaseUrlError as exc:
        _fail(f"--database-url {exc}")
    except DatabaseError as exc:
        _fail(f"database {safe_url(database_url)} is not usable: {exc}")
    except OSError as exc:
        _fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass  # a second Ctrl-C during shutdown: already stopping


def _supervise(
    settings: ServiceSettings,
    argv: list[str],
    state_file: Path,
    restart_gap_s: float | None,
    say: Callable[[str], None],
) -> NoReturn:
    if not state_file.parent.is_dir():
        _fail(f"--state-file {state_file}: no such directory {state_file.parent}")
    env = dict(os.environ)
    # The URL may hold a password: the environment keeps it out of the workers' command line.
    env[DATABASE_URL_VAR] = settings.database_url
    env[PARENT_PID_VAR] = str(os.getpid())  # a worker never outlives its supervisor
    supervisor = Supervisor(
        worker_argv=argv,
        worker_env=env,
        host=settings.host,
        port=settings.port,
        state_file=state_file,
        say=say,
        restart_gap_s=DEFAULT_RESTART_GAP_S if restart_gap_s is None else restart_gap_s,
        parent_pid=_parent_pid(),
    )
    try:
        code = supervisor.run()
    except SupervisorError as exc:
        _fail(str(exc), exc.exit_code)
    sys.exit(code)


@click.command(
    "restart", short_help="Restart a supervised reference service (graceful, or --abrupt)."
)
@click.option(
    "--state-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The state file given to `releasegate target serve --supervise`.",
)
@click.option(
    "--abrupt",
    is_flag=True,
    help="Stop, then start: connections are refused for the restart gap and requests in flight "
    "are cut. Without it the restart is graceful and no request fails.",
)
@click.option(
    "--timeout",
    default=f"{DEFAULT_RESTART_TIMEOUT_S:g}s",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for the new worker to serve.",
)
def restart_command(state_file: Path, abrupt: bool, timeout: str) -> None:
    """Restart a service started with `releasegate target serve --supervise`, and wait until
    the new worker serves: the deploy command of a zero-downtime test, e.g.
    `releasegate watch --env local -- releasegate target restart --state-file X`.

    Exit 0 when done; 1 when the service is not running, the restart failed or timed out; 3
    when the state file is missing or unreadable.
    """
    timeout_s = _duration("--timeout", timeout, "restart")
    try:
        state = request_restart(state_file, abrupt=abrupt, timeout_s=timeout_s)
    except RestartError as exc:
        _fail(str(exc), exc.exit_code, command="restart")
    how = "abruptly" if abrupt else "gracefully"
    click.echo(
        f"restarted {how}: generation {state.generation}, worker pid {state.worker_pid},"
        f" {state.url}"
    )


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
