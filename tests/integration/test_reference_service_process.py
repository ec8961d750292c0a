"""Starting and stopping the reference service: the command's contract and the launcher's.

The command: first line `listening on URL`, tokens from the environment only, bad input one line
on stderr with exit code 3. The launcher: errors quote the service's stderr, stop is bounded and
idempotent, and no service outlives the process that started it.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess

SERVE = [sys.executable, "-m", "releasegate.target", "--port", "0"]
TIMEOUT_S = 20


def clean_env(**variables: str) -> dict[str, str]:
    """This environment without any RELEASEGATE_ variable, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    return {**env, **variables}


@contextmanager
def serving(*args: str, env: dict[str, str]) -> Iterator[str]:
    """Run the command by hand (no launcher); its announced base URL. Stopped afterwards."""
    process = subprocess.Popen(
        [*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        assert line.startswith("listening on http://"), f"first line {line!r}"
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.communicate(timeout=TIMEOUT_S)


def process_gone(pid: int) -> bool:
    """Whether `pid` has exited (a zombie not yet reaped counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return status.rsplit(")", 1)[1].split()[0] == "Z"


def wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Poll until `pid` is gone, bounded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return process_gone(pid)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "bogus"], "bad fault 'bogus': unknown fault name 'bogus'; valid faults: "),
        (["--fault", "latency=fast"], "bad fault 'latency=fast': 'fast' is not a duration"),
        (["--database-url", "nonsense"], "--database-url is not a database URL such as"),
        (["--database-url", "mysql://x/y"], "--database-url mysql://x/y: its driver is not"),
        (
            ["--database-url", "postgresql+psycopg://app:s3cret@127.0.0.1:1/app"],
            "database postgresql+psycopg://app:***@127.0.0.1:1/app is not usable:",
        ),
        (["--rate-limit", "lots"], "--rate-limit 'lots' is not RPS or RPS:BURST"),
        (["--port", "70000"], "Invalid value for '--port'"),
    ],
    ids=["fault", "fault-value", "url", "driver", "database-unreachable", "rate", "port"],
)
def test_bad_input_is_one_line_and_exit_code_3(args: list[str], message: str) -> None:
    """`releasegate target serve: error: ...` on stderr, nothing on stdout, exit 3, no
    traceback, and never a database password."""
    done = subprocess.run(
        [*SERVE, *args], capture_output=True, text=True, env=clean_env(), timeout=TIMEOUT_S
    )

    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.startswith("releasegate target serve: error: ")
    assert message in done.stderr
    assert done.stderr.count("\n") == 1
    assert "s3cret" not in done.stderr


def test_a_port_in_use_is_a_one_line_error(busy_port: int) -> None:
    """A port already taken: exit 3, naming the port."""
    done = subprocess.run(
        [*SERVE[:-1], str(busy_port)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=TIMEOUT_S,
    )

    assert done.returncode == 3
    assert f"cannot listen on 127.0.0.1 port {busy_port}:" in done.stderr
    assert "address already in use" in done.stderr
    assert done.stderr.count("\n") == 1


def test_the_launcher_quotes_the_services_error() -> None:
    """A service that cannot start: ReferenceServiceError with its exit code and stderr."""
    with pytest.raises(ReferenceServiceError) as caught:
        ReferenceServiceProcess(faults=["health=degraded:kafka"]).start()

    assert "exited with code 3 before listening" in str(caught.value)
    assert "unknown service 'kafka'" in str(caught.value)


def test_faults_come_from_the_variable_and_the_option_together() -> None:
    """RELEASEGATE_FAULTS (comma-separated) and --fault combine."""
    env = clean_env(RELEASEGATE_FAULTS="version=7.0.0,health=degraded:email")

    with serving("--fault", "drop-header=X-Frame-Options", env=env) as url:
        version = httpx.get(f"{url}/api/version").json()["version"]
        health = httpx.get(f"{url}/api/health").json()
        headers = httpx.get(url).headers

    assert version == "7.0.0"
    assert health["services"]["email"]["status"] == "degraded"
    assert "x-frame-options" not in headers


def test_tokens_come_from_the_environment_and_admin_is_off_without_one() -> None:
    """RELEASEGATE_TARGET_API_TOKEN replaces the demo token; without RELEASEGATE_ADMIN_TOKEN
    /_admin answers 403 saying how to enable it."""
    env = clean_env(RELEASEGATE_TARGET_API_TOKEN="team-token")

    with serving(env=env) as url:
        demo = httpx.get(f"{url}/api/tickets", headers={"Authorization": "Bearer local-demo-token"})
        team = httpx.get(f"{url}/api/tickets", headers={"Authorization": "Bearer team-token"})
        admin = httpx.get(f"{url}/_admin/faults", headers={"Authorization": "Bearer anything"})

    assert demo.status_code == 401
    assert team.status_code == 200
    assert admin.status_code == 403
    assert admin.json()["error"] == "admin endpoint disabled: set RELEASEGATE_ADMIN_TOKEN"


def test_the_launcher_keeps_secrets_off_the_command_line(tmp_path: Path) -> None:
    """Tokens and the database URL reach the service, but `ps` shows none of them."""
    database = tmp_path / "tickets.db"
    launcher = ReferenceServiceProcess(
        api_token="api-secret-1", admin_token="admin-secret-2", database_url=f"sqlite:///{database}"
    )

    with launcher as service:
        assert service.pid is not None
        command_line = Path(f"/proc/{service.pid}/cmdline").read_text()
        answer = httpx.get(
            f"{service.base_url}/api/tickets", headers={"Authorization": "Bearer api-secret-1"}
        )
        faults = service.set_faults(["js-error"])

    assert "releasegate.target" in command_line
    assert "secret" not in command_line
    assert str(database) not in command_line
    assert answer.status_code == 200
    assert faults == ["js-error"]
    assert "secret" not in repr(launcher)


def test_a_sqlite_file_keeps_tickets_across_restarts(tmp_path: Path) -> None:
    """sqlite:///PATH: the table is created once, seeded once, and survives a restart."""
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    auth = {"Authorization": "Bearer local-demo-token"}
    with ReferenceServiceProcess(database_url=url) as first:
        httpx.post(f"{first.base_url}/api/tickets", json={"title": "kept"}, headers=auth)

    with ReferenceServiceProcess(database_url=url) as second:
        titles = [
            t["title"]
            for t in httpx.get(f"{second.base_url}/api/tickets", headers=auth).json()["tickets"]
        ]

    assert titles.count("kept") == 1
    assert len(titles) == 4  # three seeded on the first start only, and ours


def test_stop_ends_the_service_gracefully_and_twice_is_harmless() -> None:
    """SIGTERM: it exits by itself well within the bound; a second stop() does nothing."""
    service = ReferenceServiceProcess().start()
    pid = service.pid
    assert pid is not None
    started = time.monotonic()

    service.stop()
    took = time.monotonic() - started
    service.stop()

    assert process_gone(pid)
    assert took < 5.0
    assert service.pid is None


def test_sigterm_exits_with_code_0() -> None:
    """A clean shutdown is a success, not an error."""
    process = subprocess.Popen(
        SERVE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(), text=True
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], TIMEOUT_S)
    assert ready
    assert process.stdout.readline().startswith("listening on ")

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=TIMEOUT_S)

    assert process.returncode == 0
    assert stderr == ""


def test_the_service_does_not_outlive_a_killed_launcher(tmp_path: Path) -> None:
    """The launching process is SIGKILLed (no cleanup runs): its service stops by itself."""
    script = (
        "from releasegate.target.process import ReferenceServiceProcess\n"
        "service = ReferenceServiceProcess().start()\n"
        "print(service.pid, flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    # the launcher's temp files land in tmp_path: killed, it cannot remove them itself
    launcher = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        env=clean_env(TMPDIR=str(tmp_path)),
        text=True,
    )
    try:
        assert launcher.stdout is not None
        ready, _, _ = select.select([launcher.stdout], [], [], TIMEOUT_S)
        service_pid = int(launcher.stdout.readline()) if ready else 0
        assert service_pid

        launcher.kill()
        launcher.wait(timeout=TIMEOUT_S)

        assert wait_for_exit(service_pid, 10.0)
    finally:
        launcher.kill()
        launcher.communicate(timeout=TIMEOUT_S)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_an_ipv6_host_is_announced_in_brackets() -> None:
    """--host ::1: `listening on http://[::1]:PORT`, and it answers there."""
    with ReferenceServiceProcess(host="::1") as service:
        assert service.base_url.startswith("http://[::1]:")
        assert httpx.get(f"{service.base_url}/api/health").status_code == 200


def test_the_module_entry_point_has_help() -> None:
    """`python -m releasegate.target --help` lists the options and the fault names."""
    done = subprocess.run(
        [sys.executable, "-m", "releasegate.target", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=TIMEOUT_S,
    )

    assert done.returncode == 0
    for option in ("--host", "--port", "--fault", "--database-url", "--rate-limit", "--seed"):
        assert option in done.stdout
    assert "refuse-for=DURATION" in done.stdout
