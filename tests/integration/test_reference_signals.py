"""The reference service's signals, as custom metric and log checks read them, started for real:
the ticket cache's hit rate, the job queue's totals (kept in the database across restarts), the
process's memory, the log file; and the four faults that break them (`cache-miss`, `job-fail`,
`leak`, `log-errors`).

The healthy service is shared by the module and never given a fault (its log file must stay
free of error lines); each fault gets a service of its own. Every wait polls with a deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import StartService
from tests.integration.test_reference_openapi import conforms

pytest_plugins = ["tests.integration.pg_cluster"]

AUTH = {"Authorization": "Bearer local-demo-token"}
# what a log check for errors looks for (docs/reference-service.md)
ERRORISH = re.compile(r"(?i)\b(error|exception|fatal)\b")
LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<text>.*)$"
)
MIB = 1024 * 1024
WAIT_S = 5.0


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the healthy service logs: in a folder that does not exist yet."""
    return tmp_path_factory.mktemp("signals") / "logs" / "service.log"


@pytest.fixture(scope="module")
def service(log_file: Path) -> Iterator[ReferenceServiceProcess]:
    """One healthy service with a log file, shared by the module (in-memory SQLite)."""
    with ReferenceServiceProcess(log_file=log_file) as started:
        yield started


@pytest.fixture
def http(service: ReferenceServiceProcess) -> Iterator[httpx.Client]:
    """A client of the healthy service, with the API token."""
    with httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as client:
        yield client


def stats(client: httpx.Client) -> dict[str, Any]:
    """GET /api/stats, which must answer 200."""
    answer = client.get("/api/stats")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def poll(
    client: httpx.Client, done: Callable[[dict[str, Any]], bool], timeout_s: float = WAIT_S
) -> dict[str, Any]:
    """/api/stats until `done` says so or `timeout_s` has passed; the last answer either way."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = stats(client)
        if done(body) or time.monotonic() >= deadline:
            return body
        time.sleep(0.1)


def lines_of(path: Path) -> list[str]:
    """The log file's lines (none when it does not exist yet)."""
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def wait_for_line(path: Path, pattern: str, timeout_s: float = WAIT_S) -> list[str]:
    """The file's lines once one matches `pattern`, or when `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = lines_of(path)
        if any(re.search(pattern, line) for line in lines) or time.monotonic() >= deadline:
            return lines
        time.sleep(0.1)


# --- the healthy service -----------------------------------------------------------------------


def test_a_steady_reader_is_served_from_the_cache(http: httpx.Client) -> None:
    """20 reads of the ticket list in a row: at least 80 % are hits, and stats add up."""
    before = stats(http)["cache"]
    answers = [http.get("/api/tickets") for _ in range(20)]
    after = stats(http)["cache"]

    requests = after["requests"] - before["requests"]
    hits = after["hits"] - before["hits"]
    assert {a.status_code for a in answers} == {200}
    assert all(len(a.json()["tickets"]) >= 3 for a in answers)
    assert requests == 20
    assert hits / requests >= 0.8, f"{hits} hits in {requests} lookups"
    assert after["misses"] == after["requests"] - after["hits"]
    assert after["hit_rate"] == pytest.approx(after["hits"] / after["requests"])


def test_a_reader_sees_its_own_writes_through_the_cache(http: httpx.Client) -> None:
    """The cache is warm, yet a ticket just created, changed or deleted shows at once."""
    http.get("/api/tickets")
    created = http.post("/api/tickets", json={"title": "Cache me"}).json()
    listed_created = http.get("/api/tickets").json()["tickets"]
    http.patch(f"/api/tickets/{created['id']}", json={"status": "closed"})
    listed_changed = http.get("/api/tickets").json()["tickets"]
    http.delete(f"/api/tickets/{created['id']}")
    listed_deleted = http.get("/api/tickets").json()["tickets"]

    assert [t["status"] for t in listed_created if t["id"] == created["id"]] == ["open"]
    assert [t["status"] for t in listed_changed if t["id"] == created["id"]] == ["closed"]
    assert [t for t in listed_deleted if t["id"] == created["id"]] == []
    assert [t["id"] for t in listed_changed] == sorted(t["id"] for t in listed_changed)


def test_jobs_are_processed_and_none_fail(http: httpx.Client) -> None:
    """Digest jobs every second and a ticket's notify job are processed promptly; none fails."""
    start = stats(http)["jobs"]
    http.post("/api/tickets", json={"title": "Notify someone"})
    enqueued = stats(http)["jobs"]["enqueued"]

    caught_up = poll(http, lambda s: s["jobs"]["processed"] >= enqueued)["jobs"]
    later = poll(http, lambda s: s["jobs"]["processed"] >= caught_up["processed"] + 2)["jobs"]

    assert enqueued > start["enqueued"]
    assert caught_up["processed"] >= enqueued, caught_up
    assert later["processed"] >= caught_up["processed"] + 2, "no digest job within 5 s"
    assert later["failed"] == 0
    assert later["enqueued"] == later["queued"] + later["processed"] + later["failed"]


def test_metrics_have_the_cache_jobs_and_memory_series(http: httpx.Client) -> None:
    """/metrics: the counters of the cache and the jobs, and the process's resident memory."""
    http.get("/api/tickets")
    poll(http, lambda s: s["jobs"]["processed"] > 0)

    text = http.get("/metrics").text

    values = {
        name: float(value)
        for name, value in re.findall(r"^([a-z_]+) ([0-9.e+]+)$", text, flags=re.MULTILINE)
    }
    assert values["cache_requests_total"] >= 1
    assert "cache_hits_total" in values
    assert values["jobs_enqueued_total"] >= 1
    assert values["jobs_processed_total"] >= 1
    assert values["jobs_failed_total"] == 0
    assert values["process_resident_memory_bytes"] > 10 * MIB


def test_stats_need_the_api_token_and_report_memory(service: ReferenceServiceProcess) -> None:
    """/api/stats follows the API's rules (401 without the token); rss_bytes is plausible."""
    anonymous = httpx.get(f"{service.base_url}/api/stats", timeout=10)
    body = httpx.get(f"{service.base_url}/api/stats", headers=AUTH, timeout=10).json()

    assert anonymous.status_code == 401
    assert 10 * MIB < body["process"]["rss_bytes"] < 2048 * MIB
    assert set(body) == {"cache", "jobs", "process"}


def test_stats_answer_as_the_openapi_document_says(start_service: StartService) -> None:
    """GET /api/stats is documented, and its 200, 401 and 503 (db-down) answers conform. (A
    service of its own: the shared one's log must stay free of error lines.)"""
    service = start_service()
    url = f"{service.base_url}/api/stats"
    document = httpx.get(f"{service.base_url}/openapi.json", timeout=10).json()
    ok = httpx.get(url, headers=AUTH, timeout=10)
    unauthorised = httpx.get(url, timeout=10)
    service.set_faults(["db-down"])
    try:
        unavailable = httpx.get(url, headers=AUTH, timeout=10)
    finally:
        service.clear_faults()

    assert (ok.status_code, unauthorised.status_code, unavailable.status_code) == (200, 401, 503)
    for answer in (ok, unauthorised, unavailable):
        conforms(document, "/api/stats", "get", answer)


def test_the_log_file_has_request_lines_and_no_error_lines(
    http: httpx.Client, log_file: Path
) -> None:
    """Normal traffic, 404s and paths holding the words a log check looks for included: INFO
    lines per request in the documented format, and no line an error check would match."""
    for path in ("/api/tickets", "/api/tickets/999999", "/api/error/exception/fatal", "/"):
        http.get(path)
    lines = wait_for_line(log_file, r"GET / 200 ")

    parsed = [m for m in map(LINE.match, lines) if m is not None]
    assert parsed, f"no log line in {log_file}"
    assert len(parsed) == len(lines), "a line that is not `time LEVEL logger: message`"
    assert {m["level"] for m in parsed} == {"INFO"}
    assert any(re.fullmatch(r"GET /api/tickets 200 [\d.]+ms", m["text"]) for m in parsed)
    assert any(m["text"].startswith("GET /api/tickets/{id} 404 ") for m in parsed)
    assert any(m["text"].startswith("GET unmatched 404 ") for m in parsed)
    assert [line for line in lines if ERRORISH.search(line)] == []


# --- the faults --------------------------------------------------------------------------------


def test_cache_miss_makes_every_lookup_a_miss(start_service: StartService) -> None:
    """cache-miss: no hit at all, and the answers are still right."""
    service = start_service("cache-miss")

    with httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as client:
        answers = [client.get("/api/tickets") for _ in range(10)]
        cache = stats(client)["cache"]

    assert all(len(a.json()["tickets"]) == 3 for a in answers)
    assert cache["requests"] == 10
    assert (cache["hits"], cache["misses"], cache["hit_rate"]) == (0, 10, 0.0)


def test_job_fail_one_fails_every_job(start_service: StartService) -> None:
    """job-fail=1: the failed total grows, the processed total does not."""
    service = start_service("job-fail=1")

    with httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as client:
        client.post("/api/tickets", json={"title": "Nobody hears of this"})
        jobs = poll(client, lambda s: s["jobs"]["failed"] >= 3)["jobs"]
        metrics = client.get("/metrics").text

    assert jobs["failed"] >= 3
    assert jobs["processed"] == 0
    assert re.search(r"^jobs_failed_total [1-9]", metrics, flags=re.MULTILINE)
    assert re.search(r"^jobs_processed_total 0\.0$", metrics, flags=re.MULTILINE)


def test_leak_grows_resident_memory_and_gives_it_back(start_service: StartService) -> None:
    """leak=50 switched on at run time: over 40 MB more resident within about 2 s; switched
    off, the memory is released."""
    service = start_service()

    with httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as client:
        before = stats(client)["process"]["rss_bytes"]
        service.set_faults(["leak=50"])
        started = time.monotonic()
        grown = poll(client, lambda s: s["process"]["rss_bytes"] - before > 40 * MIB, 3.0)
        took = time.monotonic() - started
        service.clear_faults()
        freed = poll(client, lambda s: s["process"]["rss_bytes"] - before < 20 * MIB, 3.0)

    growth = grown["process"]["rss_bytes"] - before
    assert growth > 40 * MIB, f"resident memory grew by {growth / MIB:.0f} MiB only"
    assert took < 2.5
    assert freed["process"]["rss_bytes"] - before < 20 * MIB


def test_log_errors_writes_error_lines_with_a_traceback(
    start_service: StartService, tmp_path: Path
) -> None:
    """log-errors switched on at run time: ERROR lines with a traceback within about 2 s; the
    answers do not change."""
    log = tmp_path / "service.log"
    service = start_service(log_file=log)

    with httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as client:
        service.set_faults(["log-errors"])
        lines = wait_for_line(log, r" ERROR ", timeout_s=2.0)
        answer = client.get("/api/tickets")

    errors = [i for i, line in enumerate(lines) if " ERROR " in line]
    assert errors, f"no ERROR line in {log} within 2 s"
    assert lines[errors[0]].endswith("cannot deliver a notification (log-errors fault)")
    assert lines[errors[0] + 1] == "Traceback (most recent call last):"
    assert answer.status_code == 200


def test_an_injected_5xx_answer_is_an_error_line(
    start_service: StartService, tmp_path: Path
) -> None:
    """error-ratio=1: each 500 answer is logged as an ERROR line with its reason."""
    log = tmp_path / "service.log"
    service = start_service("error-ratio=1", log_file=log)

    answer = httpx.get(f"{service.base_url}/api/tickets", headers=AUTH, timeout=10)
    lines = wait_for_line(log, r" ERROR ")

    assert answer.status_code == 500
    assert any(
        re.search(
            r" ERROR releasegate\.target\.access: GET /api/tickets 500 [\d.]+ms: "
            r"internal server error \(error-ratio fault\)$",
            line,
        )
        for line in lines
    ), lines


# --- across restarts ---------------------------------------------------------------------------


@pytest.fixture(params=["sqlite-file", "postgresql"])
def kept_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL that outlives the service: a SQLite file, a fresh PostgreSQL database
    (skipped without PostgreSQL binaries, outside CI)."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("fresh_database")
        return url
    return f"sqlite:///{tmp_path / 'service.db'}"


def test_job_totals_survive_a_restart_on_the_same_database(kept_database: str) -> None:
    """The jobs table is kept, so the totals go on from where they were."""
    url = kept_database

    with (
        ReferenceServiceProcess(database_url=url) as first,
        httpx.Client(base_url=first.base_url, headers=AUTH, timeout=10) as client,
    ):
        client.post("/api/tickets", json={"title": "Remember me"})
        before = poll(client, lambda s: s["jobs"]["processed"] >= 2)["jobs"]
    with (
        ReferenceServiceProcess(database_url=url) as second,
        httpx.Client(base_url=second.base_url, headers=AUTH, timeout=10) as client,
    ):
        after = stats(client)["jobs"]

    assert before["processed"] >= 2
    assert after["processed"] >= before["processed"]
    assert after["enqueued"] >= before["enqueued"]
    assert after["failed"] == 0


def test_a_graceful_restart_keeps_the_totals_and_the_log_file(tmp_path: Path) -> None:
    """Supervised on a database file: after `restart()` the totals carry on and the new worker
    appends to the same log file."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    log = tmp_path / "service.log"

    with (
        ReferenceServiceProcess(database_url=url, log_file=log, supervise=True) as service,
        httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10) as client,
    ):
        before = poll(client, lambda s: s["jobs"]["processed"] >= 1)["jobs"]
        old_worker = service.worker_pid
        service.restart(timeout_s=30)
        new_worker = service.worker_pid
        logged_before = sum("GET /api/version " in line for line in lines_of(log))
        for _ in range(3):
            client.get("/api/version")
        after = stats(client)["jobs"]
        logged_after = sum("GET /api/version " in line for line in lines_of(log))

    assert new_worker != old_worker
    assert after["processed"] >= before["processed"] >= 1
    assert logged_after - logged_before == 3
    assert [line for line in lines_of(log) if ERRORISH.search(line)] == []
