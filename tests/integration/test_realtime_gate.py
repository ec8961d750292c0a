"""The live-updates check (`[[realtime]]`, docs/realtime.md) against the real reference service:
its two channels of environments/local.toml pass when healthy; under `realtime=off` they connect
but nothing is broadcast, and `releasegate run` decides ROLLBACK; open channels never hold up a
shutdown or a graceful restart."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from releasegate.target.process import ReferenceServiceProcess
from releasegate.target.supervisor import process_running
from tests.integration.conftest import ROOT, RunGate, StartService, releasegate_in_repo, write_env

WS_CHECK = "test_realtime[ticket broadcast over WebSocket]"
SSE_CHECK = "test_realtime[ticket broadcast over server-sent events]"
TOKEN = "local-demo-token"  # local.toml's default, the reference service's too

# local.toml with only the checks this file is about: the realtime ones (and the few built-in
# smoke checks, health and version), the reference service started with `faults`
ONLY_REALTIME = """
extends = "local"
endpoints = []
pages = []
metrics = []
logs = []

[reference]
prometheus = false
faults = {faults}

[browser]
flows = []

[openapi]
paths = ["/api/version"]  # one contract check, not one per operation
"""


def _env_dir(tmp_path: Path, *faults: str) -> Path:
    envs = tmp_path / "environments"
    write_env(envs, "local", (ROOT / "environments" / "local.toml").read_text(encoding="utf-8"))
    write_env(envs, "live", ONLY_REALTIME.format(faults=json.dumps(list(faults))))
    return envs


def test_the_healthy_service_passes_both_local_channels(run_gate: RunGate) -> None:
    """WebSocket and server-sent events: connected, the created ticket's broadcast in time, both
    times measured."""
    run = run_gate("--env", "local", "-k", "test_realtime")

    assert run.outcomes() == {
        f"test_realtime.py::{WS_CHECK}": "passed",
        f"test_realtime.py::{SSE_CHECK}": "passed",
    }, run.output
    for name in (WS_CHECK, SSE_CHECK):
        measured = {m.name: m.value for m in run.check(name).measurements}
        assert set(measured) == {"connect", "time to message"}
        assert all(isinstance(v, float) and 0 <= v < 5000 for v in measured.values()), measured


def test_without_broadcasts_the_run_is_rollback(tmp_path: Path) -> None:
    """realtime=off: the channels connect (the WebSocket's welcome arrives) but the created
    ticket is never broadcast: both checks fail, and the decision is ROLLBACK naming them."""
    envs = _env_dir(tmp_path, "realtime=off")
    reports = tmp_path / "reports"

    ran = releasegate_in_repo(
        envs, "run", "--env", "live", "--stage", "smoke", "--reports-dir", str(reports),
        "--run-id", "r1", "--no-notify",
    )  # fmt: skip

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stdout.strip().splitlines()[-1].startswith("verdict: ROLLBACK")
    decision = json.loads((reports / "r1" / "decision.json").read_text(encoding="utf-8"))
    failed = {r["check"].split("::")[-1]: r["message"] for r in decision["reasons"]}
    assert set(failed) == {WS_CHECK, SSE_CHECK}, decision["reasons"]
    assert "/api/live: connected, but no message with JSON type" in failed[WS_CHECK]
    assert "within 5 s after POST" in failed[WS_CHECK]
    assert '1 arrived: \'{"type": "welcome"}\'' in failed[WS_CHECK]
    assert "/api/events: connected, but no message" in failed[SSE_CHECK]
    assert "(nothing arrived)" in failed[SSE_CHECK]
    assert all(r["rule"] == "check-failed" for r in decision["reasons"])


def test_an_environment_without_entries_has_no_realtime_check(
    tmp_path: Path, run_gate: RunGate, healthy_service: ReferenceServiceProcess
) -> None:
    """No `[[realtime]]`: no check at all, not a skipped placeholder in every report."""
    env = write_env(
        tmp_path / "environments",
        "plain",
        f'[target]\nbase_url = "{healthy_service.base_url}"\n',
    )

    run = run_gate(f"--env={env}", "-k", "test_realtime or test_version")

    assert run.outcomes(), run.output
    assert not [c for c in run.outcomes() if "test_realtime" in c], run.outcomes()
    assert "no-realtime" not in run.output


# --- the service's side: shutdown and restart with channels open --------------------------------


def _open_both(base_url: str) -> tuple[ClientConnection, httpx.Client, httpx.Response]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    socket = connect(
        base_url.replace("http://", "ws://") + "/api/live",
        additional_headers=headers,
        open_timeout=5,
        proxy=None,
        legacy=True,
    )
    assert json.loads(socket.recv(timeout=5)) == {"type": "welcome"}
    client = httpx.Client(timeout=5, headers=headers)
    stream = client.send(client.build_request("GET", base_url + "/api/events"), stream=True)
    assert stream.headers["content-type"].startswith("text/event-stream")
    return socket, client, stream


def _close_code(socket: ClientConnection) -> int | None:
    try:
        while True:
            socket.recv(timeout=5)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


def test_open_channels_end_at_once_on_shutdown(start_service: StartService) -> None:
    """SIGTERM with a WebSocket and an event stream open: both are ended (1001 going away; the
    stream at an event boundary), the service exits well within its 2 s grace, quietly."""
    service = start_service()
    socket, client, stream = _open_both(service.base_url)
    pid = service.pid
    assert pid is not None

    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    code = _close_code(socket)
    rest = b"".join(stream.iter_bytes())
    while process_running(pid) and time.monotonic() - started < 10:
        time.sleep(0.02)
    took = time.monotonic() - started
    errors = service.stderr()
    stream.close()
    client.close()
    socket.close()

    assert code == 1001
    assert rest in (b"", b": connected\n\n")
    assert not process_running(pid)
    assert took < 1.5, f"stopping took {took:.2f} s"
    assert not errors.strip(), errors


def test_a_graceful_restart_ends_the_old_workers_channels(tmp_path: Path) -> None:
    """Supervised, `restart()`: the old worker says going away to its WebSocket at once, and a
    new connection reaches the new worker, which broadcasts."""
    with ReferenceServiceProcess(supervise=True, state_file=tmp_path / "state.json") as service:
        socket, client, stream = _open_both(service.base_url)
        old = service.worker_pid

        started = time.monotonic()
        state = service.restart()
        code = _close_code(socket)
        took = time.monotonic() - started
        stream.close()
        client.close()
        fresh, client, stream = _open_both(service.base_url)
        client.post(service.base_url + "/api/tickets", json={"title": "after the restart"})
        broadcast = json.loads(fresh.recv(timeout=5))
        fresh.close()
        stream.close()
        client.close()

    assert state.worker_pid != old
    assert code == 1001
    assert took < 10
    assert broadcast["type"] == "ticket.created"
    assert broadcast["ticket"]["title"] == "after the restart"


@pytest.mark.parametrize("path", ["/api/live", "/api/events"])
def test_the_channels_need_the_api_token(
    path: str, healthy_service: ReferenceServiceProcess
) -> None:
    """Same auth as /api/*: without the token, 401 before any upgrade or stream."""
    answer = httpx.get(healthy_service.base_url + path, timeout=5)

    assert answer.status_code == 401
