"""The supervisor's small parts: its state file, its crash budget, its sockets, and the checks
`releasegate target restart` makes before it signals anything."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.target.command import worker_argv
from releasegate.target.supervisor import (
    CrashBudget,
    RestartError,
    SupervisorState,
    bind_listeners,
    parse_state,
    process_running,
    read_state,
    request_restart,
    write_state,
)

STATE: dict[str, object] = {
    "supervisor_pid": 4242,
    "worker_pid": 4243,
    "generation": 2,
    "url": "http://127.0.0.1:8000",
    "failed_restarts": 0,
    "last_error": "",
}


def a_state(**changes: object) -> SupervisorState:
    """STATE with `changes`."""
    return parse_state({**STATE, **changes})


def test_the_state_round_trips_through_its_file(tmp_path: Path) -> None:
    """What is written is read back, and no temporary file is left beside it."""
    state = a_state()
    path = tmp_path / "state.json"

    write_state(path, state)

    assert read_state(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"supervisor_pid": 0}, "supervisor_pid is 0, not a whole number >= 2"),
        ({"supervisor_pid": -1}, "supervisor_pid is -1"),
        ({"worker_pid": 1}, "worker_pid is 1"),
        ({"generation": 0}, "generation is 0"),
        ({"generation": True}, "generation is True"),
        ({"generation": "2"}, "generation is '2'"),
        ({"url": None}, "url is None, not a string"),
        ({"failed_restarts": None}, "failed_restarts is None"),
    ],
    ids=["pid-zero", "pid-negative", "pid-init", "generation-zero", "bool", "text", "url", "gone"],
)
def test_a_bad_state_names_the_field(change: dict[str, object], reason: str) -> None:
    """Pids 0, -1 and 1 are refused: kill() would signal a whole group, everyone, or init."""
    with pytest.raises(ValueError, match=reason):
        parse_state({**STATE, **change})


def test_a_state_must_be_an_object() -> None:
    """A JSON list is not a state."""
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_state([STATE])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no state file at "),
        ("{not json", "cannot read the state file "),
        (json.dumps({**STATE, "generation": 0}), "is not a supervisor state file: generation"),
    ],
    ids=["missing", "not-json", "bad-field"],
)
def test_an_unusable_state_file_is_a_usage_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    """Exit code 3 for a restart: the caller pointed at the wrong file."""
    path = tmp_path / "state.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(RestartError, match=message) as caught:
        read_state(path)

    assert caught.value.exit_code == 3


@pytest.fixture
def sleeper() -> Iterator[int]:
    """The pid of a process that is no supervisor."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_restart_never_signals_a_process_that_is_not_a_supervisor(
    tmp_path: Path, sleeper: int
) -> None:
    """A stale state file whose pid now belongs to something else: refused, nothing signalled."""
    path = tmp_path / "state.json"
    write_state(path, a_state(supervisor_pid=sleeper))

    with pytest.raises(RestartError, match=f"pid {sleeper} named in .* is not a releasegate"):
        request_restart(path, timeout_s=1.0)

    assert process_running(sleeper)


def test_a_restart_of_a_dead_supervisor_says_so(tmp_path: Path) -> None:
    """Exit code 1: the service is not running."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = tmp_path / "state.json"
    write_state(path, a_state(supervisor_pid=dead.pid))

    with pytest.raises(RestartError, match=rf"\(pid {dead.pid}\) is not running") as caught:
        request_restart(path, timeout_s=1.0)

    assert caught.value.exit_code == 1


@pytest.mark.parametrize(
    ("times", "exhausted"),
    [
        ([0.0], [False]),
        ([0.0, 1.0, 2.0], [False, False, True]),
        ([0.0, 20.0, 40.0, 50.0], [False, False, False, True]),
        ([0.0, 31.0, 62.0], [False, False, False]),
    ],
    ids=["one", "three-quickly", "window-slides", "slow-failures"],
)
def test_the_crash_budget_counts_failures_within_its_window(
    times: list[float], exhausted: list[bool]
) -> None:
    """Three failures within 30 s exhaust it; older ones fall out of the window."""
    budget = CrashBudget(limit=3, window_s=30.0)

    assert [budget.exhausted_by(t) for t in times] == exhausted


def test_a_free_port_is_bound_by_number_and_survives_a_refusal() -> None:
    """Port 0 gives a listening socket on a fixed port; after shutdown() (how a worker refuses
    connections) listen() brings back the same port."""
    sockets = bind_listeners("127.0.0.1", 0)
    try:
        [listener] = sockets
        port = listener.getsockname()[1]

        listener.shutdown(socket.SHUT_RDWR)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2.0).close()
        listener.listen()
        socket.create_connection(("127.0.0.1", port), timeout=2.0).close()

        assert listener.getsockname()[1] == port
    finally:
        for sock in sockets:
            sock.close()


def test_a_taken_port_cannot_be_bound() -> None:
    """OSError, which the supervisor reports as `cannot listen on HOST port N`."""
    [taken] = bind_listeners("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="in use"):
            bind_listeners("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_workers_get_the_options_serve_was_given() -> None:
    """Every generation starts with the same faults, version, rate limit and seed."""
    argv = worker_argv(
        host="::1",
        faults=["latency=300ms", "version=2.0.0"],
        service_version="1.2.3",
        rate_limit="50:100",
        seed=7,
    )

    assert argv[1:] == [
        "-m",
        "releasegate.target",
        "--host",
        "::1",
        "--fault",
        "latency=300ms",
        "--fault",
        "version=2.0.0",
        "--service-version",
        "1.2.3",
        "--rate-limit",
        "50:100",
        "--seed",
        "7",
    ]
