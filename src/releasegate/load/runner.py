"""Locust as a subprocess tree: planned (guardrails checked before anything starts), run headless
(one process, or a master and N workers, Locust's own distributed mode), always ended.

Locust patches the standard library with gevent when imported, so it never runs inside the
pytest process. Its exit code is ambiguous (request failures and a broken locustfile both give
1), so the outcome is judged from the files it leaves: statistics mean it ran.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releasegate.config import Environment
from releasegate.errors import LoadDidNotRun
from releasegate.errors import LoadRefused as LoadRefused  # re-exported: the CLI imports it here
from releasegate.evidence.results import write_atomically
from releasegate.load.params import LoadParams
from releasegate.load.stats import answered_path
from releasegate.net import free_loopback_port

PROFILES_DIR = Path(__file__).parent / "profiles"
# loaded into the Locust processes by path, never imported here (it imports locust)
GUARD = Path(__file__).parent / "guard.py"
# the default locustfile: the environment's [[endpoints]] (runs inside Locust only)
ENDPOINTS_LOCUSTFILE = Path(__file__).parent / "endpoints_locustfile.py"
LOAD_DIR = "load"
STATS_PREFIX = "locust"
# Past the profile's own length (the shapes end by themselves; this is the second stop, by
# ending the processes): time to spawn, to stop users and to write the reports.
_GRACE_S = 20.0
_STOP_WAIT_S = 5.0


@dataclass(frozen=True)
class LoadPlan:
    """Everything about a load run, decided before it starts."""

    params: LoadParams
    out_dir: Path
    master: list[str]
    workers: list[list[str]]
    environ: dict[str, str] = field(repr=False)
    timeout_s: float
    description: str
    common: list[str] = field(default_factory=list)

    @property
    def stats_json(self) -> Path:
        return self.out_dir / f"{STATS_PREFIX}.json"

    @property
    def answered_json(self) -> Path:
        return answered_path(self.stats_json)

    @property
    def failures_csv(self) -> Path:
        return self.out_dir / f"{STATS_PREFIX}_failures.csv"

    @property
    def history_csv(self) -> Path:
        return self.out_dir / f"{STATS_PREFIX}_stats_history.csv"

    @property
    def html_report(self) -> Path:
        return self.out_dir / "locust-report.html"

    @property
    def log(self) -> Path:
        return self.out_dir / "locust.log"

    @property
    def guard_file(self) -> Path:
        return self.out_dir / "guard.json"


def worker_argv(common: list[str], master_host: str, master_port: int) -> list[str]:
    """A Locust worker of this plan, joining the master at `master_host:master_port`."""
    return [*common, "--worker", "--master-host", master_host, "--master-port", str(master_port)]


def _loaded_endpoints(env: Environment) -> list[dict[str, object]]:
    """The [[endpoints]] the default locustfile calls: weight above 0, and on a read-only
    environment only those that read."""
    return [
        {
            "method": e.method,
            "path": e.path,
            "name": f"{e.method} {e.path}",
            "weight": e.weight,
            "writes": e.changes_data,
        }
        for e in env.model.endpoints
        if e.weight > 0 and not (env.read_only and e.changes_data)
    ]


def plan_load(
    env: Environment, base_url: str, out_dir: Path, root: Path, local_workers: int | None = None
) -> LoadPlan:
    """Check the guardrails and build the Locust command lines; `LoadRefused` says why not.

    `root` is where relative locustfile paths start (the repository); `local_workers` overrides
    `[load] workers` (the command line's `--load-workers`).
    """
    load = env.model.load
    if local_workers is not None:
        load = load.model_copy(update={"workers": local_workers})
    if env.read_only and not load.allowed:
        raise LoadRefused(
            f"load refused: env={env.name} is read-only; set [load] allowed = true in"
            f" {env.path} to load it (caps: max_users {load.max_users},"
            f" max_duration {load.max_duration:g}s)"
        )
    endpoints = _loaded_endpoints(env) if not load.locustfile else []
    if load.locustfile:
        locustfile = Path(load.locustfile)
        if not locustfile.is_absolute():
            locustfile = root / locustfile
        if not locustfile.is_file():
            raise LoadRefused(f"no locustfile at {locustfile} ([load] locustfile in {env.path})")
    elif not endpoints:
        raise LoadRefused(
            f"nothing to load: {env.path} lists no [[endpoints]] with a weight above 0 that"
            f"{' only read' if env.read_only else ''}; list some, or set [load] locustfile"
        )
    else:
        locustfile = ENDPOINTS_LOCUSTFILE
    shape = PROFILES_DIR / f"{load.profile.replace('-', '_')}.py"
    params = LoadParams(
        profile=load.profile,
        users=load.users,
        spawn_rate=load.spawn_rate,
        duration_s=load.duration,
        wait_min_s=load.wait_min,
        wait_max_s=load.wait_max,
        target=base_url,
        headers=dict(env.target.headers),
        max_users=load.max_users,
        max_requests=load.max_requests,
        abort_failure_ratio=load.abort_failure_ratio,
        abort_after_s=load.abort_after,
        guard_file=str(out_dir / "guard.json"),
        answered_file=str(answered_path(out_dir / f"{STATS_PREFIX}.json")),
        endpoints=endpoints,
    )
    if params.peak_users > load.max_users:
        raise LoadRefused(
            f"load refused: profile {load.profile} runs {params.peak_users} users, over"
            f" [load] max_users {load.max_users} in {env.path}"
        )
    files = f"{locustfile},{shape},{GUARD}"
    # the target goes by environment (LOCUST_HOST), not argv: a URL may hold a secret, and
    # any local user can read a process's argv
    common = [sys.executable, "-m", "locust", "-f", files, "--headless"]
    if env.read_only:
        common += ["--exclude-tags", "writes"]
    prefix = str(out_dir / STATS_PREFIX)
    master = [
        *common,
        "--csv",
        prefix,
        "--csv-full-history",
        "--json-file",
        prefix,
        "--html",
        str(out_dir / "locust-report.html"),
        "--stop-timeout",
        "5",
        "--only-summary",
    ]
    workers: list[list[str]] = []
    expected = load.workers + load.expect_workers
    if expected:
        port = load.master_port or free_loopback_port()
        master += [
            "--master",
            "--master-bind-host",
            load.master_bind,
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(expected),
            "--expect-workers-max-wait",
            # at least a second: Locust reads 0 as "wait for ever"
            str(max(1, math.ceil(load.worker_wait))),
        ]
        # local workers join where the master listens (loopback when it listens everywhere)
        everywhere = ("0.0.0.0", "::", "*")  # noqa: S104 - recognised here, not bound to
        local = "127.0.0.1" if load.master_bind in everywhere else load.master_bind
        workers = [worker_argv(common, local, port) for _ in range(load.workers)]
    environ = {
        **os.environ,
        **params.to_environ(),
        "LOCUST_HOST": base_url,
        "PYTHONUNBUFFERED": "1",
    }
    how = f"{load.workers} local worker(s)" if load.workers else "one process"
    if load.expect_workers:
        how += f", waiting for {load.expect_workers} more"
    return LoadPlan(
        params=params,
        out_dir=out_dir,
        master=master,
        workers=workers,
        environ=environ,
        timeout_s=load.duration + load.worker_wait + 2 * _GRACE_S,
        description=(
            f"profile {load.profile}: {params.peak_users} users at {load.spawn_rate:g}/s for"
            f" {load.duration:g}s, {how}, against {base_url}"
        ),
        common=common,
    )


@dataclass
class LoadRun:
    """What happened: Locust's exit, whether it was stopped by us, the guard's note, its log."""

    plan: LoadPlan
    exit_code: int | None
    timed_out: bool
    elapsed_s: float
    pids: list[int]
    guard: dict[str, Any] | None = None

    def reports(self) -> list[tuple[str, Path]]:
        """Locust's own files for people: its HTML report, statistics, per-second history, log."""
        kinds = (
            ("locust-report", self.plan.html_report),
            ("locust-stats", self.plan.stats_json),
            ("locust-answered", self.plan.answered_json),
            ("locust-failures", self.plan.failures_csv),
            ("locust-history", self.plan.history_csv),
            ("locust-log", self.plan.log),
        )
        return [(kind, path) for kind, path in kinds if path.is_file()]

    def log_tail(self, lines: int = 12) -> str:
        try:
            text = self.plan.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        kept = [line for line in text.splitlines() if line.strip()]
        return "\n".join(kept[-lines:])

    def error_line(self) -> str:
        """The most telling line of Locust's output: an error or a traceback's last line."""
        text = self.log_tail(60).splitlines()
        for line in reversed(text):
            if "Error" in line or "error" in line or "Gave up" in line or "Traceback" in line:
                return line.strip()
        return text[-1].strip() if text else "(no output)"


def _end_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """TERM every process group at once, wait for all against one deadline, KILL the rest."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_WAIT_S
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        # the group too: anything a Locust process started goes with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_WAIT_S)


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGTERM when the gate's process dies (a
    killed pytest runs no `finally`, and the child's own session is out of reach of its job
    control). Linux only; elsewhere the gate's own clean-up has to do."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_load(plan: LoadPlan) -> LoadRun:
    """Run the plan to its end (or its timeout); every Locust process is gone on return, also
    when interrupted (Ctrl-C ends the whole group before the interrupt goes on)."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    processes: list[subprocess.Popen[bytes]] = []
    timed_out = False
    with plan.log.open("w", encoding="utf-8") as log:
        try:
            for argv in (plan.master, *plan.workers):
                processes.append(
                    subprocess.Popen(
                        argv,
                        env=plan.environ,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        # a process group each, so each can be ended with all it started
                        start_new_session=True,
                        preexec_fn=_die_with_parent,  # sets a flag only: safe with threads
                    )
                )
            try:
                processes[0].wait(timeout=plan.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            if not timed_out:
                # the workers end when their master does; a moment to say goodbye
                deadline = time.monotonic() + _STOP_WAIT_S
                for worker in processes[1:]:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        worker.wait(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            _end_all(processes)
    master = processes[0]
    pids = [p.pid for p in processes]
    guard = None
    if plan.guard_file.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            guard = json.loads(plan.guard_file.read_text(encoding="utf-8"))
    return LoadRun(
        plan=plan,
        exit_code=master.returncode,
        timed_out=timed_out,
        elapsed_s=time.monotonic() - started,
        pids=pids,
        guard=guard,
    )


RUN_RECORD = "run.json"
_STARTED = ".started"


def run_load_once(plan: LoadPlan, poll_s: float = 0.25) -> LoadRun:
    """`run_load`, once per run folder however many pytest processes ask (`-n N` gives each
    xdist worker the load checks' session fixture): the first to claim the folder runs
    Locust, the others wait for its record and read the same results."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(plan.out_dir / _STARTED, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return _wait_for_record(plan, poll_s)
    run = run_load(plan)
    record = {
        "exit_code": run.exit_code,
        "timed_out": run.timed_out,
        "elapsed_s": run.elapsed_s,
        "pids": run.pids,
        "guard": run.guard,
    }
    write_atomically(plan.out_dir / RUN_RECORD, json.dumps(record))
    return run


def _wait_for_record(plan: LoadPlan, poll_s: float) -> LoadRun:
    deadline = time.monotonic() + plan.timeout_s + 4 * _STOP_WAIT_S
    path = plan.out_dir / RUN_RECORD
    while time.monotonic() < deadline:
        if path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
            return LoadRun(plan=plan, **record)
        time.sleep(poll_s)
    raise LoadDidNotRun(
        f"another pytest process started this load run and left no result within"
        f" {plan.timeout_s:g}s ({plan.out_dir})"
    )
