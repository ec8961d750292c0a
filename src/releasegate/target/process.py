"""The reference service as a subprocess on a free loopback port: start, change faults, stop.

Used by the pytest plugin (`[reference] start = true`), by `releasegate demo` and by tests.
Tokens and the database URL go to the child through its environment, never its command line
(which `ps` shows to every user). The child's output goes to files rather than pipes, so a
chatty child can never block on a pipe nobody reads.

With `supervise=True` the child is a supervisor (supervisor.py) running the service as a worker
it can restart, gracefully or abruptly, through `restart()` or `releasegate target restart`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

from releasegate.target.settings import (
    ADMIN_TOKEN_VAR,
    API_TOKEN_VAR,
    DATABASE_URL_VAR,
    DEFAULT_API_TOKEN,
    FAULTS_VAR,
    PARENT_PID_VAR,
)
from releasegate.target.supervisor import (
    DEFAULT_RESTART_TIMEOUT_S,
    RestartError,
    SupervisorState,
    read_state,
    request_restart,
)

ANNOUNCEMENT = "listening on "
_POLL_S = 0.02
_STDERR_SHOWN = 2000  # characters of the child's stderr quoted in an error


class ReferenceServiceError(Exception):
    """The reference service did not start, or refused an admin request."""


class ReferenceServiceProcess:
    """`with ReferenceServiceProcess(faults=["latency=300ms"]) as service: ...service.base_url`.

    The service is stopped on leaving the block, when starting it fails, and (by the service
    itself) when this process dies without stopping it.

    `supervise=True` runs it under a supervisor in a process group of its own, with its state
    in `state_file` (a temporary file unless given); `restart()` then replaces its worker, and
    `stop()` ends the supervisor and every worker.

    `log_file` is where the service (every worker, when supervised) appends its log lines
    (`serve --log-file`); it is left in place when the service stops.
    """

    def __init__(
        self,
        *,
        faults: Sequence[str] = (),
        database_url: str | None = None,
        api_token: str | None = None,
        admin_token: str | None = None,
        service_version: str | None = None,
        rate_limit: str | None = None,
        host: str = "127.0.0.1",
        seed: int | None = None,
        startup_timeout_s: float = 15.0,
        stop_timeout_s: float = 10.0,
        supervise: bool = False,
        state_file: Path | None = None,
        restart_gap_s: float | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.faults = list(faults)
        self.database_url = database_url
        self.api_token = api_token or DEFAULT_API_TOKEN
        self.admin_token = admin_token or secrets.token_urlsafe(32)
        self.service_version = service_version
        self.rate_limit = rate_limit
        self.host = host
        self.seed = seed
        self.startup_timeout_s = startup_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.supervise = supervise
        self.restart_gap_s = restart_gap_s
        self.log_file = log_file
        self.base_url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._state_file_given = state_file
        self._state_file: Path | None = None

    def __repr__(self) -> str:
        # no tokens: this shows up in test reports and logs
        return f"ReferenceServiceProcess(base_url={self.base_url!r}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        """The service's process id while it runs (the supervisor's when supervised)."""
        return self._process.pid if self._process is not None else None

    @property
    def state_file(self) -> Path | None:
        """The supervisor's state file while a supervised service runs: what
        `releasegate target restart --state-file` takes."""
        return self._state_file

    def argv(self) -> list[str]:
        """The command that starts the service (no secrets in it)."""
        argv = [sys.executable, "-m", "releasegate.target", "--host", self.host, "--port", "0"]
        for fault in self.faults:
            argv += ["--fault", fault]
        if self.service_version is not None:
            argv += ["--service-version", self.service_version]
        if self.rate_limit is not None:
            argv += ["--rate-limit", self.rate_limit]
        if self.seed is not None:
            argv += ["--seed", str(self.seed)]
        if self.log_file is not None:
            argv += ["--log-file", str(self.log_file)]
        if self.supervise:
            argv.append("--supervise")
            if self._state_file is not None:
                argv += ["--state-file", str(self._state_file)]
            if self.restart_gap_s is not None:
                argv += ["--restart-gap", f"{self.restart_gap_s:g}s"]
        return argv

    def _env(self) -> dict[str, str]:
        # Only the faults and database asked for here: not ones left in this environment.
        env = {k: v for k, v in os.environ.items() if k not in (FAULTS_VAR, DATABASE_URL_VAR)}
        env[API_TOKEN_VAR] = self.api_token
        env[ADMIN_TOKEN_VAR] = self.admin_token
        env[PARENT_PID_VAR] = str(os.getpid())
        if self.database_url is not None:
            env[DATABASE_URL_VAR] = self.database_url
        return env

    def start(self) -> ReferenceServiceProcess:
        """Start the service and wait (bounded) for its `listening on URL` line."""
        if self._process is not None:
            raise ReferenceServiceError(f"already started: {self!r}")
        self._workdir = Path(tempfile.mkdtemp(prefix="releasegate-target-"))
        if self.supervise:
            self._state_file = self._state_file_given or self._workdir / "supervisor.json"
        try:
            with (
                (self._workdir / "stdout").open("wb") as stdout,
                (self._workdir / "stderr").open("wb") as stderr,
            ):
                self._process = subprocess.Popen(
                    self.argv(),
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    env=self._env(),
                    # its own group, so that stop() can end the workers too, whatever happened
                    # to the supervisor
                    process_group=0 if self.supervise else None,
                )
            self.base_url = self._wait_for_announcement(self._process)
        except BaseException:
            self.stop()
            raise
        return self

    def _read(self, name: str) -> str:
        if self._workdir is None:
            return ""
        try:
            return (self._workdir / name).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stderr(self) -> str:
        """What the service printed on stderr so far (its errors)."""
        return self._read("stderr")

    def _wait_for_announcement(self, process: subprocess.Popen[bytes]) -> str:
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            exit_code = process.poll()
            for line in self._read("stdout").splitlines(keepends=True):
                if line.startswith(ANNOUNCEMENT) and line.endswith("\n"):
                    return line.removeprefix(ANNOUNCEMENT).strip()
            if exit_code is not None:
                why = f"exited with code {exit_code} before listening"
                break
            if time.monotonic() >= deadline:
                why = f"did not announce its address within {self.startup_timeout_s:g} s"
                break
            time.sleep(_POLL_S)
        stderr = self.stderr().strip()[-_STDERR_SHOWN:] or "(nothing on stderr)"
        raise ReferenceServiceError(f"reference service {why}: {stderr}")

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL. Safe to call again, or before `start`.

        Supervised, the supervisor stops its worker itself; whatever is left of its process
        group afterwards (a worker of a supervisor that was killed) gets SIGKILL."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=self.stop_timeout_s)
        if process is not None and self.supervise:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self._state_file = None
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    def __enter__(self) -> ReferenceServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- restarts, when supervised -------------------------------------------------------------

    def supervisor_state(self) -> SupervisorState:
        """What the supervisor last published: its pid, its worker's, the generation."""
        if self._state_file is None:
            raise ReferenceServiceError("not a started ReferenceServiceProcess(supervise=True)")
        try:
            return read_state(self._state_file)
        except RestartError as exc:
            raise ReferenceServiceError(str(exc)) from None

    @property
    def worker_pid(self) -> int | None:
        """The pid of the worker serving now (supervised), or of the service itself."""
        if not self.supervise:
            return self.pid
        return self.supervisor_state().worker_pid if self._state_file is not None else None

    def restart(
        self, *, abrupt: bool = False, timeout_s: float = DEFAULT_RESTART_TIMEOUT_S
    ) -> SupervisorState:
        """Restart as `releasegate target restart` does and wait for the new worker; its state.

        Graceful by default (no request fails); `abrupt` stops, then starts. A restart that
        fails or times out raises ReferenceServiceError with the reason."""
        if self._state_file is None:
            raise ReferenceServiceError(
                "restart() needs a started ReferenceServiceProcess(supervise=True)"
            )
        try:
            return request_restart(self._state_file, abrupt=abrupt, timeout_s=timeout_s)
        except RestartError as exc:
            raise ReferenceServiceError(str(exc)) from None

    # --- faults at run time, through /_admin/faults --------------------------------------------

    def _admin(self, method: str, faults: Sequence[str] | None = None) -> list[str]:
        if not self.base_url:
            raise ReferenceServiceError("the reference service is not started")
        url = f"{self.base_url}/_admin/faults"
        try:
            response = httpx.request(
                method,
                url,
                headers={"Authorization": f"Bearer {self.admin_token}"},
                json=None if faults is None else {"faults": list(faults)},
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            raise ReferenceServiceError(f"{method} {url}: {exc}") from None
        if response.status_code != 200:
            raise ReferenceServiceError(
                f"{method} {url} answered {response.status_code}: {response.text[:300]}"
            )
        active: list[str] = response.json()["faults"]
        return active

    def set_faults(self, faults: Sequence[str]) -> list[str]:
        """Replace the active faults (`[]` clears them); returns them as the service lists
        them. A bad fault raises `ReferenceServiceError` with the service's reason."""
        return self._admin("POST", faults)

    def clear_faults(self) -> list[str]:
        """Switch every fault off."""
        return self._admin("DELETE")

    def active_faults(self) -> list[str]:
        """The faults in effect, in their canonical texts."""
        return self._admin("GET")
