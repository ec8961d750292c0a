"""Restarting the supervised reference service, the two ways a deploy can go.

Graceful (`releasegate target restart`): the new worker takes over the listening socket before the
old one stops, so a client opening a fresh connection for every request never sees a failure,
and requests in flight finish. Abrupt (`--abrupt`): stop, then start, so connections are refused
for a moment and requests in flight are cut. Real processes and sockets; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import pytest

from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess
from releasegate.target.supervisor import SupervisorState, process_running, read_state

TIMEOUT_S = 60
PROBE_RATE = 40.0
PROBE_TIMEOUT_S = 5.0
# a worker polls for its supervisor every second, then drains and shuts down
ORPHAN_EXIT_S = 10.0


def clean_env(**variables: str) -> dict[str, str]:
    """This environment without any RELEASEGATE_ variable, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    return {**env, **variables}


def restart_command(state_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`releasegate target restart --state-file STATE_FILE ARGS` as a deploy pipeline runs it."""
    argv = [sys.executable, "-m", "releasegate", "target", "restart"]
    return subprocess.run(
        [*argv, "--state-file", str(state_file), *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=TIMEOUT_S,
        check=False,
    )


def wait_until_gone(pid: int, timeout_s: float) -> bool:
    """Poll until `pid` has exited (a zombie counts as exited), bounded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process_running(pid):
            return True
        time.sleep(0.05)
    return not process_running(pid)


def wait_for_generation(state_file: Path, generation: int, timeout_s: float) -> SupervisorState:
    """The state once it reaches `generation`, bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = read_state(state_file)
        if state.generation >= generation or time.monotonic() >= deadline:
            return state
        time.sleep(0.05)


@dataclass(frozen=True)
class Probe:
    """One request: when it started and ended (monotonic seconds), and the status or error."""

    started: float
    ended: float
    outcome: str


class Prober:
    """GETs `url` from a thread, on a fresh connection each time, about `rate` times a second.

    A fresh connection is what makes a handover visible: a keep-alive connection would stay
    with the old worker and hide whether the new one accepts."""

    def __init__(self, url: str, *, rate: float = PROBE_RATE, threads: int = 1) -> None:
        self.url = url
        self.period_s = threads / rate
        self.threads = threads
        self.probes: list[Probe] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def __enter__(self) -> Prober:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=PROBE_TIMEOUT_S * 2)

    def _run(self, index: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        headers = {"Connection": "close"}
        with httpx.Client(limits=limits, headers=headers, timeout=PROBE_TIMEOUT_S) as client:
            next_at = time.monotonic() + index * self.period_s / self.threads
            while not self._stop.wait(max(0.0, next_at - time.monotonic())):
                started = time.monotonic()
                try:
                    outcome = str(client.get(self.url).status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with self._lock:
                    self.probes.append(Probe(started, time.monotonic(), outcome))
                next_at = max(next_at + self.period_s, started)

    def done(self) -> list[Probe]:
        """The probes finished so far, in order of start."""
        with self._lock:
            return sorted(self.probes, key=lambda p: p.started)

    def failures(self) -> list[Probe]:
        """The probes that did not answer 200."""
        return [p for p in self.done() if p.outcome != "200"]

    def during(self, start: float, end: float) -> list[Probe]:
        """The probes that started within [start, end]."""
        return [p for p in self.done() if start <= p.started <= end]


def show(probes: list[Probe], origin: float) -> str:
    """`+1.234s ConnectError, ...`: probes relative to `origin`, for assertion messages."""
    return ", ".join(f"+{p.started - origin:.3f}s {p.outcome}" for p in probes[:20])


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[ReferenceServiceProcess]:
    """A supervised reference service with its state in tmp_path; stopped afterwards."""
    with ReferenceServiceProcess(supervise=True, state_file=tmp_path / "state.json") as service:
        yield service


def test_the_supervisor_announces_and_publishes_its_worker(
    supervised: ReferenceServiceProcess,
) -> None:
    """First line `listening on URL`; the state file names the supervisor, its worker (a child
    serving on the inherited socket) and generation 1."""
    state = supervised.supervisor_state()
    worker_command = Path(f"/proc/{state.worker_pid}/cmdline").read_bytes().split(b"\0")
    worker_parent = Path(f"/proc/{state.worker_pid}/stat").read_text().rsplit(")", 1)[1].split()[1]

    assert state.url == supervised.base_url
    assert state.supervisor_pid == supervised.pid
    assert state.generation == 1
    assert b"--listen-fd" in worker_command
    assert int(worker_parent) == supervised.pid
    assert httpx.get(f"{supervised.base_url}/api/health").status_code == 200


def test_graceful_restarts_fail_no_request(supervised: ReferenceServiceProcess) -> None:
    """Three graceful restarts in a row under ~40 fresh connections a second: every probe
    answers 200, probes kept arriving during each restart, and each restart has a new worker."""
    state_file = supervised.state_file
    assert state_file is not None
    origin = time.monotonic()
    restarts: list[tuple[float, float, subprocess.CompletedProcess[str]]] = []
    workers = [supervised.supervisor_state().worker_pid]

    with Prober(f"{supervised.base_url}/api/health") as prober:
        time.sleep(0.5)
        for _ in range(3):
            started = time.monotonic()
            done = restart_command(state_file)
            restarts.append((started, time.monotonic(), done))
            workers.append(supervised.supervisor_state().worker_pid)
            time.sleep(0.3)

    failures = prober.failures()
    assert not failures, f"{len(failures)} failed probes: {show(failures, origin)}"
    assert [done.returncode for _, _, done in restarts] == [0, 0, 0], [
        done.stderr for _, _, done in restarts
    ]
    assert restarts[-1][2].stdout.startswith("restarted gracefully: generation 4, worker pid ")
    assert len(set(workers)) == 4, workers
    assert all(not process_running(pid) for pid in workers[:-1])
    for started, ended, _ in restarts:
        assert len(prober.during(started, ended)) >= PROBE_RATE * (ended - started) * 0.5


def test_an_abrupt_restart_refuses_connections_for_a_moment(
    supervised: ReferenceServiceProcess,
) -> None:
    """--abrupt: probes fail (refused) during the gap, then the service answers again on the
    same URL with a new worker."""
    state_file = supervised.state_file
    assert state_file is not None
    before = supervised.supervisor_state()

    with Prober(f"{supervised.base_url}/api/health") as prober:
        time.sleep(0.5)
        started = time.monotonic()
        done = restart_command(state_file, "--abrupt")
        time.sleep(0.5)
    after = supervised.supervisor_state()
    failures = prober.failures()
    last = prober.done()[-5:]

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("restarted abruptly: generation 2, worker pid ")
    assert failures, "no probe failed during an abrupt restart"
    assert {p.outcome for p in failures} <= {"ConnectError", "RemoteProtocolError", "ReadError"}
    assert all(p.started >= started for p in failures)
    assert [p.outcome for p in last] == ["200"] * 5
    assert after.worker_pid != before.worker_pid
    assert after.url == before.url
    assert not process_running(before.worker_pid)


def test_requests_in_flight_finish_during_a_graceful_restart(tmp_path: Path) -> None:
    """latency=800ms and requests always in flight (four clients back to back, plus one sent
    just before the restart): the old worker, stopping, finishes every one with 200."""
    launcher = ReferenceServiceProcess(
        faults=["latency=800ms"], supervise=True, state_file=tmp_path / "state.json"
    )
    with launcher as service:
        url = f"{service.base_url}/api/health"
        with (
            Prober(url, rate=5.0, threads=4) as prober,
            ThreadPoolExecutor(max_workers=1) as pool,
        ):
            time.sleep(1.0)
            just_before: Future[httpx.Response] = pool.submit(
                httpx.get, url, headers={"Connection": "close"}, timeout=PROBE_TIMEOUT_S
            )
            time.sleep(0.1)
            before = service.supervisor_state()
            after = service.restart()
            time.sleep(1.0)
            answer = just_before.result(timeout=PROBE_TIMEOUT_S)

    failures = prober.failures()
    assert answer.status_code == 200
    assert not failures, f"failed probes: {[p.outcome for p in failures]}"
    assert after.worker_pid != before.worker_pid
    assert all(p.ended - p.started >= 0.8 for p in prober.done())
    assert len(prober.done()) >= 12


def test_an_abrupt_restart_cuts_requests_in_flight(tmp_path: Path) -> None:
    """latency=3s: a request sent before an abrupt restart never gets its answer."""
    launcher = ReferenceServiceProcess(
        faults=["latency=3s"], supervise=True, state_file=tmp_path / "state.json"
    )
    with launcher as service, ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(
            httpx.get, f"{service.base_url}/api/health", timeout=PROBE_TIMEOUT_S
        )
        time.sleep(0.3)
        service.restart(abrupt=True)

        # the connection closes without an answer (or is reset)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            in_flight.result(timeout=PROBE_TIMEOUT_S)


def test_a_restart_without_a_state_file_is_a_one_line_error(tmp_path: Path) -> None:
    """A missing state file: exit 3, one line naming the file, no traceback."""
    missing = tmp_path / "nowhere.json"

    done = restart_command(missing)

    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.startswith(f"releasegate target restart: error: no state file at {missing}")
    assert done.stderr.count("\n") == 1


def test_a_restart_of_a_stopped_service_is_a_one_line_error(tmp_path: Path) -> None:
    """A state file left by a supervisor that was killed: exit 1, `not running`."""
    state_file = tmp_path / "state.json"
    with ReferenceServiceProcess(supervise=True, state_file=state_file) as service:
        kept = state_file.read_text()
        assert service.pid is not None
        os.kill(service.pid, signal.SIGKILL)
        assert wait_until_gone(service.pid, TIMEOUT_S)
    state_file.write_text(kept)

    done = restart_command(state_file, "--timeout", "5s")

    assert done.returncode == 1
    assert "is not running" in done.stderr
    assert done.stderr.count("\n") == 1


def test_a_failed_graceful_restart_keeps_the_old_worker(tmp_path: Path) -> None:
    """The new worker cannot start (its database is gone): exit 1 with the reason, and the old
    worker goes on serving."""
    data = tmp_path / "data"
    data.mkdir()
    launcher = ReferenceServiceProcess(
        supervise=True,
        state_file=tmp_path / "state.json",
        database_url=f"sqlite:///{data / 'tickets.db'}",
    )
    with launcher as service:
        assert service.state_file is not None
        before = service.supervisor_state()
        shutil.rmtree(data)

        done = restart_command(service.state_file)
        after = service.supervisor_state()
        health = httpx.get(f"{service.base_url}/api/health")

    assert done.returncode == 1
    assert "the restart failed: the new worker (pid " in done.stderr
    assert "exited with code 3 before listening" in done.stderr
    assert f"worker pid {before.worker_pid} still serves" in done.stderr
    assert done.stderr.count("\n") == 1
    assert (after.worker_pid, after.generation, after.failed_restarts) == (
        before.worker_pid,
        1,
        1,
    )
    assert health.status_code == 200


def test_a_dead_worker_is_replaced(supervised: ReferenceServiceProcess) -> None:
    """A worker killed from outside is replaced by the next generation on the same URL."""
    state_file = supervised.state_file
    assert state_file is not None
    before = supervised.supervisor_state()

    os.kill(before.worker_pid, signal.SIGKILL)
    after = wait_for_generation(state_file, 2, TIMEOUT_S)

    assert after.generation == 2
    assert after.worker_pid != before.worker_pid
    assert httpx.get(f"{supervised.base_url}/api/health").status_code == 200
    assert "was killed by SIGKILL; starting a new one" in supervised.stderr()


def test_a_worker_that_keeps_dying_ends_the_supervisor(tmp_path: Path) -> None:
    """Replacements that cannot start: after three failures the supervisor exits 1 saying it
    gives up, and leaves no worker behind."""
    data = tmp_path / "data"
    data.mkdir()
    state_file = tmp_path / "state.json"
    argv = [sys.executable, "-m", "releasegate.target", "--port", "0", "--supervise"]
    argv += ["--state-file", str(state_file), "--database-url", f"sqlite:///{data / 't.db'}"]
    supervisor = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), text=True
    )
    try:
        assert supervisor.stdout is not None
        ready, _, _ = select.select([supervisor.stdout], [], [], TIMEOUT_S)
        assert ready
        assert supervisor.stdout.readline().startswith("listening on http://")
        worker = read_state(state_file).worker_pid
        shutil.rmtree(data)

        os.kill(worker, signal.SIGKILL)
        _, stderr = supervisor.communicate(timeout=TIMEOUT_S)
    finally:
        supervisor.kill()
        supervisor.communicate(timeout=TIMEOUT_S)
    last_line = stderr.strip().splitlines()[-1]

    assert supervisor.returncode == 1
    assert last_line.startswith("releasegate target serve: error: replacement: the new worker")
    assert last_line.endswith("3 failures within 30 s, giving up")
    assert not state_file.exists()


def test_faults_given_at_start_apply_to_every_generation(tmp_path: Path) -> None:
    """A fault from the command line and one from RELEASEGATE_FAULTS hold after a restart."""
    launcher = ReferenceServiceProcess(
        faults=["version=7.0.0"], supervise=True, state_file=tmp_path / "state.json"
    )
    with launcher as service:
        service.restart()
        version = httpx.get(f"{service.base_url}/api/version").json()["version"]
        service.restart(abrupt=True)
        again = httpx.get(f"{service.base_url}/api/version").json()["version"]

    assert (version, again) == ("7.0.0", "7.0.0")


def test_refuse_for_refuses_under_a_supervisor(supervised: ReferenceServiceProcess) -> None:
    """refuse-for set at run time still refuses connections although the supervisor holds the
    socket, and the same port answers again afterwards."""
    url = f"{supervised.base_url}/api/health"

    supervised.set_faults(["refuse-for=1s"])
    time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=PROBE_TIMEOUT_S)
    answer: httpx.Response | None = None
    deadline = time.monotonic() + 10.0
    while answer is None and time.monotonic() < deadline:
        try:
            answer = httpx.get(url, timeout=PROBE_TIMEOUT_S)
        except httpx.ConnectError:
            time.sleep(0.1)

    assert answer is not None
    assert answer.status_code == 200


def test_stop_leaves_no_supervisor_and_no_worker(tmp_path: Path) -> None:
    """stop() after restarts: the supervisor, every worker generation and the state file are
    gone."""
    state_file = tmp_path / "state.json"
    service = ReferenceServiceProcess(supervise=True, state_file=state_file).start()
    try:
        pids = [service.supervisor_state().worker_pid]
        pids.append(service.restart().worker_pid)
        pids.append(service.restart(abrupt=True).worker_pid)
        assert service.pid is not None
        pids.append(service.pid)
    finally:
        service.stop()

    assert [pid for pid in pids if process_running(pid)] == []
    assert not state_file.exists()
    with pytest.raises(ReferenceServiceError, match="supervise=True"):
        service.restart()


def test_a_worker_does_not_outlive_a_killed_supervisor(
    supervised: ReferenceServiceProcess,
) -> None:
    """The supervisor is SIGKILLed (no cleanup runs): its worker stops by itself."""
    worker = supervised.supervisor_state().worker_pid
    assert supervised.pid is not None

    os.kill(supervised.pid, signal.SIGKILL)

    assert wait_until_gone(worker, ORPHAN_EXIT_S)


def test_serve_refuses_supervise_options_without_supervise(tmp_path: Path) -> None:
    """--state-file without --supervise, and --supervise without --state-file: exit 3."""
    serve = [sys.executable, "-m", "releasegate.target", "--port", "0"]
    stray = subprocess.run(
        [*serve, "--state-file", str(tmp_path / "s.json")],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=TIMEOUT_S,
        check=False,
    )
    missing = subprocess.run(
        [*serve, "--supervise"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=TIMEOUT_S,
        check=False,
    )

    assert (stray.returncode, missing.returncode) == (3, 3)
    assert "--state-file and --restart-gap go with --supervise" in stray.stderr
    assert "--supervise needs --state-file PATH" in missing.stderr


def test_the_state_file_is_json_with_the_documented_fields(
    supervised: ReferenceServiceProcess,
) -> None:
    """What `releasegate target restart` (and anyone else) reads."""
    assert supervised.state_file is not None

    data = json.loads(supervised.state_file.read_text())

    assert set(data) == {
        "supervisor_pid",
        "worker_pid",
        "generation",
        "url",
        "failed_restarts",
        "last_error",
    }
