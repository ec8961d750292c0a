"""The supervised reference service: one process owns the port, workers serve on it.

A deploy replaces the process behind a port, and a "zero downtime" gate must be testable both
ways. So the supervisor binds the listening socket itself and runs the real service as a worker
that inherits it. SIGHUP restarts gracefully: a new worker accepts on the same socket before the
old one is told to stop, and the old one finishes what it has in flight, so no connection is
refused and no request is cut. SIGUSR2 restarts abruptly: the worker is killed and the socket
closed for a gap before both come back, as a stop-then-start deploy does.

The supervisor is plain blocking Python, never serving a request itself: it must answer signals
whatever its worker's event loop is doing. It publishes who it is in a state file, which is what
`releasegate target restart` reads. This module loads neither aiohttp nor SQLAlchemy, so that
command stays quick.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ANNOUNCEMENT = "listening on "
DEFAULT_RESTART_GAP_S = 1.5
DEFAULT_RESTART_TIMEOUT_S = 30.0
# A worker loads aiohttp and SQLAlchemy and prepares its database before it announces.
WORKER_START_TIMEOUT_S = 30.0
# A stopping worker waits GRACE_S (server.py, 2 s) for requests in flight and as long again for
# their cancellation; one still running well past that is stuck and gets SIGKILL.
WORKER_STOP_TIMEOUT_S = 10.0
# After an abrupt restart the port may be held by someone else for a moment.
REBIND_RETRY_S = 10.0
# A worker that keeps dying is a broken service, not bad luck: stop restarting it.
CRASH_LIMIT = 3
CRASH_WINDOW_S = 30.0
CRASH_BACKOFF_S = 0.5
BACKLOG = 128
USAGE_ERROR = 3
FAILED = 1

_TICK_S = 0.5
_POLL_S = 0.05
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_RESTART_SIGNALS = (signal.SIGHUP, signal.SIGUSR2)

log = logging.getLogger("releasegate.target.supervisor")


class SupervisorError(Exception):
    """The supervisor cannot go on; the message is one line, `exit_code` what to exit with."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RestartError(Exception):
    """A restart could not be asked for, or did not complete; the message is one line.

    `exit_code` is 3 when the state file is missing or unreadable (the caller pointed at the
    wrong thing), 1 otherwise (the service is gone, the restart failed or took too long)."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- the state file ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SupervisorState:
    """What the state file holds: whom to signal, and how far restarts got.

    `generation` counts workers started (1 for the first); a restart is complete once it grows.
    `failed_restarts` grows instead when a graceful restart could not start its new worker (the
    old one keeps serving); `last_error` says why."""

    supervisor_pid: int
    worker_pid: int
    generation: int
    url: str
    failed_restarts: int = 0
    last_error: str = ""


def write_state(path: Path, state: SupervisorState) -> None:
    """Replace the file in one step, so that a reader never sees half of it."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(state), out)
            out.write("\n")
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _whole(data: dict[str, object], name: str, minimum: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} is {value!r}, not a whole number >= {minimum}")
    return value


def _text(data: dict[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} is {value!r}, not a string")
    return value


def parse_state(data: object) -> SupervisorState:
    """The state from decoded JSON; ValueError naming the first field that is wrong.

    Process ids must be above 1: `kill(0, ...)` would signal our whole process group and
    `kill(-1, ...)` every process we may signal, and pid 1 is init."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return SupervisorState(
        supervisor_pid=_whole(data, "supervisor_pid", 2),
        worker_pid=_whole(data, "worker_pid", 2),
        generation=_whole(data, "generation", 1),
        url=_text(data, "url"),
        failed_restarts=_whole(data, "failed_restarts", 0),
        last_error=_text(data, "last_error"),
    )


def read_state(path: Path) -> SupervisorState:
    """The state in `path`; RestartError (exit code 3) when it is missing or not a state."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RestartError(
            f"no state file at {path}: is `releasegate target serve --supervise "
            f"--state-file {path}` running?",
            USAGE_ERROR,
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RestartError(f"cannot read the state file {path}: {exc}", USAGE_ERROR) from None
    try:
        return parse_state(data)
    except ValueError as exc:
        raise RestartError(f"{path} is not a supervisor state file: {exc}", USAGE_ERROR) from None


# --- asking for a restart ------------------------------------------------------------------


def process_running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (one its parent has not reaped yet is gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's: it exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc here: trust kill()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _check_supervisor(pid: int, state_file: Path) -> None:
    # A state file outlives a supervisor killed with SIGKILL, and its pid may since belong to
    # anything: SIGHUP to an unrelated process would likely end it. Check what runs there.
    if not process_running(pid):
        raise RestartError(f"the supervisor named in {state_file} (pid {pid}) is not running")
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return  # no /proc (not Linux), or it just exited: kill() reports the latter
    if b"--supervise" not in arguments:
        raise RestartError(
            f"pid {pid} named in {state_file} is not a releasegate supervisor"
            " (a state file left by one that was killed?)"
        )


def request_restart(
    state_file: Path, *, abrupt: bool = False, timeout_s: float = DEFAULT_RESTART_TIMEOUT_S
) -> SupervisorState:
    """Signal the supervisor named in `state_file` (SIGHUP, or SIGUSR2 when `abrupt`) and wait,
    at most `timeout_s`, until it publishes its next generation; that state.

    RestartError when the file is missing or bad, the supervisor is not running or exits, the
    restart fails, or it takes too long. A crash restart that completes meanwhile also counts:
    either way a new worker serves."""
    before = read_state(state_file)
    pid = before.supervisor_pid
    _check_supervisor(pid, state_file)
    try:
        os.kill(pid, signal.SIGUSR2 if abrupt else signal.SIGHUP)
    except ProcessLookupError:
        raise RestartError(f"the supervisor (pid {pid}) exited before the restart") from None
    except PermissionError:
        raise RestartError(f"not allowed to signal the supervisor (pid {pid})") from None
    deadline = time.monotonic() + timeout_s
    while True:
        time.sleep(_POLL_S)
        try:
            now: SupervisorState | None = read_state(state_file)
        except RestartError:
            now = None  # removed: the supervisor is stopping
        if now is not None and now.supervisor_pid == pid:
            if now.generation > before.generation:
                return now
            if now.failed_restarts > before.failed_restarts:
                raise RestartError(f"the restart failed: {now.last_error}")
        if not process_running(pid):
            raise RestartError(
                f"the supervisor (pid {pid}) exited during the restart; see its stderr"
            )
        if time.monotonic() >= deadline:
            raise RestartError(
                f"no new worker within {timeout_s:g} s (still generation {before.generation},"
                f" worker pid {before.worker_pid}; supervisor pid {pid})"
            )


# --- the supervisor ------------------------------------------------------------------------


class CrashBudget:
    """How many worker failures in a sliding window are tolerated before giving up."""

    def __init__(self, limit: int = CRASH_LIMIT, window_s: float = CRASH_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._times: deque[float] = deque()

    def exhausted_by(self, now: float) -> bool:
        """Record a failure at `now`; whether `limit` of them now fall within `window_s`."""
        self._times.append(now)
        while now - self._times[0] > self.window_s:
            self._times.popleft()
        return len(self._times) >= self.limit


def _listening_socket(family: socket.AddressFamily) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    # the port must be bindable again at once after an abrupt restart (TIME_WAIT connections)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        # IPv4 has its own socket when the name has both kinds of address
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return sock


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address of `host`, all on one port (with 0, a free one).

    The port is always bound by number, even when 0 asks for a free one (a first socket reserves
    it): when a worker takes the socket out of listening for a `refuse-for` fault (server.py),
    Linux keeps only a port bound by number, and the socket must listen again on the same one."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    addresses = list(dict.fromkeys((info[0], info[4]) for info in found))
    reservation: socket.socket | None = None
    sockets: list[socket.socket] = []
    try:
        if port == 0:
            family, address = addresses[0]
            reservation = _listening_socket(family)
            reservation.bind(address)
            port = int(reservation.getsockname()[1])
        for family, address in addresses:
            sock = _listening_socket(family)
            sockets.append(sock)
            sock.bind((address[0], port, *address[2:]))
        if reservation is not None:
            reservation.close()
        for sock in sockets:
            sock.listen(BACKLOG)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    finally:
        if reservation is not None:
            reservation.close()
    return sockets


class _WorkerFailed(Exception):
    """A new worker did not come up; `exit_code` is its own when it exited."""

    def __init__(self, message: str, exit_code: int | None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Stopping(Exception):
    """SIGTERM or SIGINT arrived while waiting for a new worker."""


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid


def _describe_exit(pid: int, code: int, who: str = "the worker") -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"{who} (pid {pid}) was killed by {signal.Signals(-code).name}"
    return f"{who} (pid {pid}) exited with code {code}"


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _wake(signum: int, frame: FrameType | None) -> None:
    """The signal number reaches the loop through the wakeup pipe; nothing to do here."""


class Supervisor:
    """Owns the listening sockets and one worker at a time; the module docstring has the rest.

    `worker_argv` starts one worker; `--listen-fd N` is added for each inherited socket. The
    worker announces `listening on URL` on stdout, which the supervisor repeats as its own first
    line through `say` (later lines report restarts)."""

    def __init__(
        self,
        *,
        worker_argv: Sequence[str],
        worker_env: Mapping[str, str],
        host: str,
        port: int,
        state_file: Path,
        say: Callable[[str], None],
        restart_gap_s: float = DEFAULT_RESTART_GAP_S,
        parent_pid: int | None = None,
    ) -> None:
        self.worker_argv = list(worker_argv)
        self.worker_env = dict(worker_env)
        self.host = host
        self.port = port
        self.state_file = state_file
        self.say = say
        self.restart_gap_s = restart_gap_s
        self.parent_pid = parent_pid
        self.generation = 0
        self.failed_restarts = 0
        self.last_error = ""
        self._sockets: list[socket.socket] = []
        self._worker: _Worker | None = None
        self._crashes = CrashBudget()
        self._stopping = False
        self._restarts: deque[int] = deque()
        self._wake_read = -1
        self._wake_write = -1
        self._previous_wakeup_fd = -1
        self._previous_handlers: dict[int, _Handler] = {}

    # -- lifecycle --

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT, or until the parent named at start is gone; the exit code
        (the first worker's own when it could not start: it has said why on stderr).

        SupervisorError when the port cannot be bound, the state file cannot be written, or the
        worker keeps dying."""
        self._install_signals()
        try:
            try:
                self._sockets = bind_listeners(self.host, self.port)
            except OSError as exc:
                raise SupervisorError(
                    f"cannot listen on {self.host} port {self.port}: {exc.strerror or exc}",
                    USAGE_ERROR,
                ) from None
            self.port = int(self._sockets[0].getsockname()[1])
            try:
                self._worker = self._spawn()
            except _Stopping:
                return 0
            except _WorkerFailed as exc:
                if exc.exit_code is not None and exc.exit_code > 0:
                    return exc.exit_code
                raise SupervisorError(str(exc)) from None
            self.generation = 1
            try:
                self._publish(strict=True)
            except OSError as exc:
                raise SupervisorError(
                    f"cannot write the state file {self.state_file}: {exc.strerror or exc}",
                    USAGE_ERROR,
                ) from None
            self.say(f"{ANNOUNCEMENT}{self._worker.url}")
            self._loop()
            return 0
        finally:
            self._shutdown()

    def _loop(self) -> None:
        while True:
            self._wait_for_signals(_TICK_S)
            while self._restarts and not self._stopping:
                if self._restarts.popleft() == signal.SIGUSR2:
                    self._restart_abruptly()
                else:
                    self._restart_gracefully()
            if self._stopping:
                return
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.error(
                    "the process that started the service (pid %s) is gone; stopping",
                    self.parent_pid,
                )
                return
            worker = self._worker
            if worker is not None and (code := worker.process.poll()) is not None:
                self._worker = None
                self._replace_dead_worker(_describe_exit(worker.pid, code))

    def _shutdown(self) -> None:
        if self._worker is not None:
            self._stop_worker(self._worker)
            self._worker = None
        self._close_sockets()
        with contextlib.suppress(RestartError, OSError):
            if read_state(self.state_file).supervisor_pid == os.getpid():
                # a stale file would send the next `target restart` to a pid that is not ours
                self.state_file.unlink()
        self._restore_signals()

    # -- restarts --

    def _restart_gracefully(self) -> None:
        old = self._worker
        try:
            new = self._spawn()
        except _Stopping:
            return
        except _WorkerFailed as exc:
            still = f"; worker pid {old.pid} still serves" if old is not None else ""
            self.failed_restarts += 1
            self.last_error = f"{exc}{still}"
            log.error("graceful restart failed: %s", self.last_error)
            self._publish()
            return
        # The new worker accepts on the shared socket already: stopping the old one now leaves
        # no moment without a listener, and SIGTERM lets it finish what it has in flight.
        self._worker = new
        if old is not None:
            self._stop_worker(old)
        self.generation += 1
        self._publish()
        was = f" (was {old.pid})" if old is not None else ""
        self.say(f"restarted gracefully: generation {self.generation}, worker pid {new.pid}{was}")

    def _restart_abruptly(self) -> None:
        old = self._worker
        self._worker = None
        if old is not None:
            old.process.kill()
            old.process.wait()
        self._close_sockets()  # the last holder: the kernel refuses connections from now
        if not self._sleep(self.restart_gap_s):
            return
        deadline = time.monotonic() + REBIND_RETRY_S
        while True:
            try:
                self._sockets = bind_listeners(self.host, self.port)
                break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise SupervisorError(
                        f"cannot listen again on {self.host} port {self.port}:"
                        f" {exc.strerror or exc}"
                    ) from None
                if not self._sleep(0.2):
                    return
        if self._start_new_worker("abrupt restart"):
            was = f" (was {old.pid})" if old is not None else ""
            pid = self._worker.pid if self._worker is not None else 0
            self.say(f"restarted abruptly: generation {self.generation}, worker pid {pid}{was}")

    def _replace_dead_worker(self, why: str) -> None:
        if self._crashes.exhausted_by(time.monotonic()):
            raise SupervisorError(
                f"{why}; {CRASH_LIMIT} failures within {CRASH_WINDOW_S:g} s, giving up"
            )
        log.error("%s; starting a new one", why)
        if self._start_new_worker("replacement"):
            pid = self._worker.pid if self._worker is not None else 0
            self.say(f"replaced the worker: generation {self.generation}, worker pid {pid}")

    def _start_new_worker(self, what: str) -> bool:
        """Start a worker where none runs, retrying within the crash budget; False when a stop
        signal came first."""
        while True:
            try:
                self._worker = self._spawn()
            except _Stopping:
                return False
            except _WorkerFailed as exc:
                if self._crashes.exhausted_by(time.monotonic()):
                    raise SupervisorError(
                        f"{what}: {exc}; {CRASH_LIMIT} failures within {CRASH_WINDOW_S:g} s,"
                        " giving up"
                    ) from None
                log.error("%s: %s; trying again", what, exc)
                if not self._sleep(CRASH_BACKOFF_S):
                    return False
                continue
            self.generation += 1
            self._publish()
            return True

    # -- workers --

    def _spawn(self) -> _Worker:
        argv = list(self.worker_argv)
        for sock in self._sockets:
            argv += ["--listen-fd", str(sock.fileno())]
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=self.worker_env,
            pass_fds=[sock.fileno() for sock in self._sockets],
        )
        try:
            url = self._read_announcement(process)
        except BaseException:
            process.kill()
            process.wait()
            raise
        return _Worker(process, url)

    def _read_announcement(self, process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        output = process.stdout.fileno()
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        received = b""
        try:
            while b"\n" not in received:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _WorkerFailed(
                        f"the new worker (pid {process.pid}) did not announce its address"
                        f" within {WORKER_START_TIMEOUT_S:g} s",
                        None,
                    )
                ready, _, _ = select.select([output, self._wake_read], [], [], left)
                if self._wake_read in ready:
                    self._drain_signals()
                    if self._stopping:
                        raise _Stopping
                if output not in ready:
                    continue
                chunk = os.read(output, 4096)
                if not chunk:
                    try:
                        code = process.wait(timeout=WORKER_STOP_TIMEOUT_S)
                    except subprocess.TimeoutExpired:
                        raise _WorkerFailed(
                            f"the new worker (pid {process.pid}) closed its output without"
                            " announcing its address",
                            None,
                        ) from None
                    why = _describe_exit(process.pid, code, "the new worker")
                    raise _WorkerFailed(f"{why} before listening", code)
                received += chunk
        finally:
            # The worker writes nothing after this line (it points its stdout at /dev/null).
            process.stdout.close()
        line = received.split(b"\n", 1)[0].decode("utf-8", errors="replace")
        if not line.startswith(ANNOUNCEMENT):
            raise _WorkerFailed(f"the new worker's first line is {line!r}, not the address", None)
        return line.removeprefix(ANNOUNCEMENT).strip()

    def _stop_worker(self, worker: _Worker) -> None:
        if worker.process.poll() is None:
            worker.process.terminate()
        try:
            worker.process.wait(timeout=WORKER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.error(
                "the worker (pid %s) did not stop within %g s; killing it",
                worker.pid,
                WORKER_STOP_TIMEOUT_S,
            )
            worker.process.kill()
            worker.process.wait()

    def _close_sockets(self) -> None:
        sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def _publish(self, *, strict: bool = False) -> None:
        worker = self._worker
        state = SupervisorState(
            supervisor_pid=os.getpid(),
            worker_pid=worker.pid if worker is not None else 0,
            generation=self.generation,
            url=worker.url if worker is not None else "",
            failed_restarts=self.failed_restarts,
            last_error=self.last_error,
        )
        try:
            write_state(self.state_file, state)
        except OSError as exc:
            if strict:
                raise
            # serving matters more than the file; `target restart` will time out and say so
            log.error("cannot write the state file %s: %s", self.state_file, exc)

    # -- signals --

    def _install_signals(self) -> None:
        # Handlers only wake the loop through the pipe; everything happens in the loop, never
        # inside a handler, so a signal can never interrupt a restart half done.
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._wake_write, warn_on_full_buffer=False)
        for signum in (*_STOP_SIGNALS, *_RESTART_SIGNALS, signal.SIGCHLD):
            self._previous_handlers[signum] = signal.signal(signum, _wake)

    def _restore_signals(self) -> None:
        if self._wake_read < 0:
            return
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers.clear()
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        os.close(self._wake_read)
        os.close(self._wake_write)
        self._wake_read = self._wake_write = -1

    def _drain_signals(self) -> None:
        while True:
            try:
                received = os.read(self._wake_read, 512)
            except BlockingIOError:
                return
            if not received:
                return
            for signum in received:
                if signum in _STOP_SIGNALS:
                    self._stopping = True
                elif signum in _RESTART_SIGNALS:
                    self._restarts.append(signum)
                # SIGCHLD only wakes the loop to look at the worker

    def _wait_for_signals(self, timeout_s: float) -> None:
        ready, _, _ = select.select([self._wake_read], [], [], timeout_s)
        if ready:
            self._drain_signals()

    def _sleep(self, seconds: float) -> bool:
        """Sleep, but wake for a stop signal; False when one came."""
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            self._wait_for_signals(left)
        return not self._stopping
