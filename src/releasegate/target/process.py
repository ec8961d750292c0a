"""Starting the reference service as a subprocess on a free loopback port, and stopping it.

Used by the pytest plugin (for `[reference] start = true`), by `releasegate demo` and by tests.
Tokens go to the child through its environment, never its command line (visible in `ps`).
"""

from __future__ import annotations

import os
import secrets
import selectors
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
    DEFAULT_API_TOKEN,
    FAULTS_VAR,
)

_ANNOUNCEMENT = "listening on "


class ReferenceServiceError(Exception):
    """The reference service did not start, or refused an admin request."""


class ReferenceServiceProcess:
    """`with ReferenceServiceProcess(faults=["latency=300ms"]) as service: service.base_url`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        faults: Sequence[str] = (),
        database_url: str | None = None,
        api_token: str | None = None,
        admin_token: str | None = None,
        service_version: str | None = None,
        rate_limit: str | None = None,
        seed: int | None = None,
        startup_timeout_s: float = 15.0,
    ) -> None:
        self.host = host
        self.faults = list(faults)
        self.database_url = database_url
        self.api_token = api_token or DEFAULT_API_TOKEN
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.service_version = service_version
        self.rate_limit = rate_limit
        self.seed = seed
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[str] | None = None
        self._stderr_path: Path | None = None
        self.base_url = ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _argv(self) -> list[str]:
        argv = [sys.executable, "-m", "releasegate.target", "--host", self.host, "--port", "0"]
        for fault in self.faults:
            argv += ["--fault", fault]
        options = {
            "--database-url": self.database_url,
            "--service-version": self.service_version,
            "--rate-limit": self.rate_limit,
            "--seed": None if self.seed is None else str(self.seed),
        }
        for flag, value in options.items():
            if value is not None:
                argv += [flag, value]
        return argv

    def _stderr(self) -> str:
        if self._stderr_path is None or not self._stderr_path.exists():
            return ""
        return self._stderr_path.read_text(errors="replace").strip()

    def start(self) -> ReferenceServiceProcess:
        """Start it and wait (bounded) for its "listening on URL" line."""
        env = {k: v for k, v in os.environ.items() if k != FAULTS_VAR}
        env[API_TOKEN_VAR] = self.api_token
        env[ADMIN_TOKEN_VAR] = self.admin_token
        fd, name = tempfile.mkstemp(prefix="releasegate-target-", suffix=".log")
        self._stderr_path = Path(name)
        with os.fdopen(fd, "w") as stderr:
            self._process = subprocess.Popen(
                self._argv(), stdout=subprocess.PIPE, stderr=stderr, env=env, text=True
            )
        try:
            self.base_url = self._wait_for_announcement()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_announcement(self) -> str:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if selector.select(timeout=left):
                    line = process.stdout.readline()
                    if line.startswith(_ANNOUNCEMENT):
                        return line[len(_ANNOUNCEMENT) :].strip()
                    if not line:  # end of output: it exited
                        break
        process.poll()
        why = (
            f"exited with {process.returncode}"
            if process.returncode is not None
            else (f"did not announce its port within {self.startup_timeout_s:g} s")
        )
        raise ReferenceServiceError(f"reference service {why}: {self._stderr() or 'no output'}")

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._stderr_path is not None:
            self._stderr_path.unlink(missing_ok=True)
            self._stderr_path = None

    # -- faults at run time -------------------------------------------------------------------

    def _admin(self, method: str, faults: list[str] | None = None) -> list[str]:
        response = httpx.request(
            method,
            f"{self.base_url}/_admin/faults",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            json=None if faults is None else {"faults": faults},
            timeout=10,
        )
        if response.status_code != 200:
            raise ReferenceServiceError(
                f"{method} {self.base_url}/_admin/faults answered {response.status_code}:"
                f" {response.text[:200]}"
            )
        active: list[str] = response.json()["faults"]
        return active

    def set_faults(self, faults: list[str]) -> list[str]:
        """Replace the active faults; returns them as the service lists them."""
        return self._admin("POST", faults)

    def clear_faults(self) -> list[str]:
        return self._admin("DELETE")

    def active_faults(self) -> list[str]:
        return self._admin("GET")

    def __enter__(self) -> ReferenceServiceProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
