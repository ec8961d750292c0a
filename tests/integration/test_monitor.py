"""`releasegate monitor` end to end: real gate runs against the real reference service, faults
switched through its admin API as the uptime history grows, a real webhook receiver on
loopback, and the report site's uptime page."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import ROOT, StartService, gate_env, write_env
from tests.webhook_receiver import WebhookReceiver

PLANTED = "planted-Monitor-Secret-4c1d"  # in the webhook URL, from ${MONITOR_WEBHOOK}
# Every check is a real gate run of a few seconds; a monitor that hangs fails here.
MONITOR_TIMEOUT_S = 120

ENV = """
[target]
base_url = "{url}"
read_only = true
timeout = "2s"
retries = 0  # loopback: a refused connection is not a blip of the network

[[endpoints]]
path = "/api/version"

[browser]
enabled = false

[monitor]
alert_after = 2
objective = "50%"
{monitor}

[notify]
webhook_url = "${{MONITOR_WEBHOOK}}"
format = "json"
"""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver(f"/hook/{PLANTED}")
    yield started
    started.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def history_of(reports: Path) -> dict[str, Any] | None:
    found = list((reports / "monitors").glob("*/uptime.json"))
    return json.loads(found[0].read_text()) if found else None


@dataclass
class Finished:
    """A `releasegate monitor` that ended, with its history and the alerts the webhook got."""

    process: subprocess.CompletedProcess[str]
    reports: Path
    alerts: list[dict[str, Any]]

    @property
    def output(self) -> str:
        return self.process.stdout + self.process.stderr

    @property
    def history(self) -> dict[str, Any]:
        found = history_of(self.reports)
        assert found is not None, self.output
        return found

    @property
    def folder(self) -> Path:
        return next((self.reports / "monitors").iterdir())

    def outcomes(self) -> list[str]:
        return [c["outcome"] for c in self.history["checks"]]


def run_monitor(
    env_file: Path,
    reports: Path,
    receiver: WebhookReceiver,
    *args: str,
    after_check: dict[int, Callable[[], object]] | None = None,
) -> Finished:
    """Run `releasegate monitor` a check every second; call `after_check[k]` as soon as the
    history holds k checks (before check k + 1 reaches the target: a gate run takes seconds
    to start), so faults follow the checks, not the clock."""
    argv = [sys.executable, "-m", "releasegate", "monitor", "--env", str(env_file)]
    argv += ["--reports-dir", str(reports), "--every", "1s", *args]
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=gate_env({"MONITOR_WEBHOOK": receiver.url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pending = dict(after_check or {})
    errors: list[BaseException] = []

    def follow() -> None:
        while pending and process.poll() is None:
            found = history_of(reports)
            recorded = len(found["checks"]) if found else 0
            for k in sorted(pending):
                if recorded >= k:
                    try:
                        pending.pop(k)()
                    except Exception as exc:  # reported by the test below
                        errors.append(exc)
                        return
            time.sleep(0.02)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        stdout, stderr = process.communicate(timeout=MONITOR_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    follower.join(timeout=5)
    done = Finished(
        subprocess.CompletedProcess(argv, process.returncode, stdout, stderr),
        reports,
        list(receiver.bodies),
    )
    assert not errors, f"switching faults failed: {errors[0]!r}"
    assert not pending, f"the monitor ended before check {sorted(pending)}: {done.output}"
    return done


def releasegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=ROOT,
        env=gate_env({"MONITOR_WEBHOOK": f"http://127.0.0.1:9/{PLANTED}"}),
        capture_output=True,
        text=True,
        timeout=MONITOR_TIMEOUT_S,
        check=False,
    )


def make_env(tmp_path: Path, url: str, monitor: str = "") -> Path:
    return write_env(tmp_path / "environments", "staging", ENV.format(url=url, monitor=monitor))


# --- a flapping target ---------------------------------------------------------------------


def test_a_single_failed_check_then_healthy_raises_no_alert(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """One failed check, then healthy: a blip, recorded, and no alert sent."""
    service = start_service("health=down")
    env_file = make_env(tmp_path, service.base_url)

    done = run_monitor(
        env_file,
        tmp_path / "reports",
        receiver,
        "--max-checks",
        "3",
        after_check={1: service.clear_faults},
    )

    assert done.outcomes() == ["down", "up", "up"], done.output
    assert receiver.bodies == []
    assert [(i["confirmed"], i["failed_checks"]) for i in done.history["incidents"]] == [(False, 1)]
    assert done.process.returncode == 0, done.output


# --- a target down for N checks ------------------------------------------------------------


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    """A monitor (alert after 2) over a target down for 2 checks, then healthy for 2; and the
    report site built from its reports."""
    tmp_path = tmp_path_factory.mktemp("outage")
    receiver = WebhookReceiver(f"/hook/{PLANTED}")
    try:
        with ReferenceServiceProcess(faults=["health=down"]) as service:
            env_file = make_env(tmp_path, service.base_url)
            done = run_monitor(
                env_file,
                tmp_path / "reports",
                receiver,
                "--max-checks",
                "4",
                after_check={2: service.clear_faults},
            )
        built = releasegate("report", "build", "--reports-dir", str(done.reports), "--no-allure")
        assert built.returncode == 0, built.stdout + built.stderr
        yield done
    finally:
        receiver.close()


def test_a_target_down_for_n_checks_raises_one_alert_and_one_recovery(outage: Finished) -> None:
    """Down for alert_after checks: one down alert, then one recovery alert, nothing else."""
    assert outage.outcomes() == ["down", "down", "up", "up"], outage.output
    assert [a["event"] for a in outage.alerts] == ["down", "recovered"]


def test_the_alerts_say_since_when_and_how_long(outage: Finished) -> None:
    """The recovery alert carries the incident's duration, as the history records it."""
    down, recovered = outage.alerts
    [incident] = outage.history["incidents"]

    assert down["consecutive_failures"] == 2
    assert down["since"] == recovered["since"]
    assert recovered["duration_s"] == incident["duration_s"] > 0
    assert incident["confirmed"] is True
    assert "reports status 'down'" in recovered["reason"]


def test_ending_up_at_the_objective_exits_0(outage: Finished) -> None:
    """Ended up, with 2 of 4 checks up: exactly the 50 % objective, so exit 0; the summary
    says so."""
    assert outage.process.returncode == 0, outage.output
    assert "availability 50.00% of 4 measured checks" in outage.output


def test_failed_checks_keep_their_evidence_and_passing_ones_only_the_newest(
    outage: Finished,
) -> None:
    """The run folders of failed checks stay; of the passing ones only the newest."""
    kept = sorted(p.name for p in (outage.folder / "checks").iterdir() if p.name != "latest")

    assert kept == ["check-0001", "check-0002", "check-0004"]


def test_the_uptime_page_shows_availability_and_the_incident(outage: Finished) -> None:
    """`report build` writes an uptime page with availability against the objective and the
    incident, linked from the index; the check runs are not listed as releases."""
    site = outage.reports / "site"
    page = (site / "uptime" / outage.folder.name / "index.html").read_text()
    index = (site / "index.html").read_text()

    assert "Availability <strong>50.00%</strong> against the objective 50.00%" in page
    assert 'data-testid="incident" data-kind="outage"' in page
    assert 'href="uptime/index.html"' in index
    assert 'data-testid="run-row"' not in index


def test_secrets_never_appear_in_output_or_files(outage: Finished) -> None:
    """The webhook URL (a ${VAR}, so a secret) is masked on the terminal and in every file."""
    leaked = [
        str(p.relative_to(outage.reports))
        for p in outage.reports.rglob("*")
        if p.is_file() and PLANTED.encode() in p.read_bytes()
    ]

    assert PLANTED not in outage.output
    assert "notification to ********: delivered (200)" in outage.output
    assert leaked == []


# --- measurement problems ------------------------------------------------------------------


def test_an_unreachable_target_with_a_working_network_is_down(
    receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Connection refused while the canary answers: the target is down, and alerted."""
    env_file = make_env(tmp_path, closed_port_url(), f'canary_url = "{receiver.base}/canary"')

    done = run_monitor(
        env_file, tmp_path / "reports", receiver, "--max-checks", "1", "--alert-after", "1"
    )

    assert done.outcomes() == ["down"], done.output
    assert [a["event"] for a in done.alerts] == ["down"]
    assert done.process.returncode == 1


def test_when_the_canary_is_unreachable_too_it_is_a_measurement_problem(
    receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Neither the target nor the canary answers: unknown, no alert, exit 2 (no evidence)."""
    env_file = make_env(tmp_path, closed_port_url(), f'canary_url = "{closed_port_url()}"')

    done = run_monitor(
        env_file, tmp_path / "reports", receiver, "--max-checks", "1", "--alert-after", "1"
    )

    assert done.outcomes() == ["unknown"], done.output
    assert "cannot reach its network" in done.history["checks"][0]["reason"]
    assert receiver.bodies == []
    assert done.process.returncode == 2


# --- stopping --------------------------------------------------------------------------------


def test_sigterm_stops_the_running_check_and_keeps_the_history(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """SIGTERM in the middle of a check: the check's gate run is stopped, the monitor ends at
    once with the history written as interrupted; the unfinished check is not recorded."""
    service = start_service()
    reports = tmp_path / "reports"
    argv = [sys.executable, "-m", "releasegate", "monitor", "--env"]
    argv += [str(make_env(tmp_path, service.base_url)), "--reports-dir", str(reports)]
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=gate_env({"MONITOR_WEBHOOK": receiver.url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + MONITOR_TIMEOUT_S
        # the first check's gate run has started once its results.json exists
        while not list(reports.glob("monitors/*/checks/check-0001/results.json")):
            assert process.poll() is None, "the monitor ended before its first check ran"
            assert time.monotonic() < deadline, "the first check never started"
            time.sleep(0.02)
        process.terminate()
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    history = history_of(reports)

    assert history is not None, output
    assert (history["status"], history["stopped_by"], history["checks"]) == (
        "interrupted",
        "interrupted",
        [],
    )
    assert process.returncode == 2, output


# --- usage errors --------------------------------------------------------------------------


def test_a_bad_every_is_one_line_and_exit_3(tmp_path: Path) -> None:
    """`--every soon` is a usage error: one line naming the option, exit 3, no traceback."""
    env_file = make_env(tmp_path, "http://127.0.0.1:9")

    ran = releasegate("monitor", "--env", str(env_file), "--every", "soon")

    assert ran.returncode == 3
    assert ran.stderr.strip().splitlines() == [
        "releasegate: error: --every: expected a duration such as '5s' or '500ms', got 'soon'"
    ]


# --- one monitor after another ---------------------------------------------------------------


def test_an_outage_open_when_a_monitor_ends_is_carried_into_the_next(
    start_service: StartService, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Back-to-back monitors (an hourly job): the first sees two failed checks and alerts down;
    the next one, after the fix, sends the recovery, and never a second down alert."""
    service = start_service("health=down")
    env_file = make_env(tmp_path, service.base_url)
    first = run_monitor(env_file, tmp_path / "reports", receiver, "--max-checks", "2")
    service.set_faults([])

    second = run_monitor(env_file, tmp_path / "reports", receiver, "--max-checks", "1")

    assert [a["event"] for a in first.alerts] == ["down"], first.output
    assert [a["event"] for a in second.alerts] == ["down", "recovered"], second.output
    assert "going on with the open incident" in second.output
