"""The reference service, started for real: its contract, and each fault's effect."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess
from tests.integration.conftest import StartService
from tests.integration.pg_cluster import postgres_server

TOKEN = "local-demo-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def service() -> Iterator[ReferenceServiceProcess]:
    """One service for the module; each test that switches faults clears them after."""
    with ReferenceServiceProcess() as started:
        yield started


@pytest.fixture
def client(service: ReferenceServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base_url, timeout=10) as http:
        yield http
    service.clear_faults()


def test_health_reports_every_service_healthy(client: httpx.Client) -> None:
    """/api/health: healthy, with database, cache and email, each with a latency."""
    response = client.get("/api/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert set(body["services"]) == {"database", "cache", "email"}
    assert body["services"]["database"]["latency_ms"] >= 0


def test_version_reports_the_configured_version(client: httpx.Client) -> None:
    """/api/version answers the version it was started with."""
    assert client.get("/api/version").json()["version"] == "1.0.0"


def test_the_api_needs_a_token(client: httpx.Client) -> None:
    """Without a token: 401; with the wrong one: 401; with the right one: 200."""
    assert client.get("/api/tickets").status_code == 401
    assert client.get("/api/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/tickets", headers=AUTH).status_code == 200


def test_tickets_can_be_created_read_updated_and_deleted(client: httpx.Client) -> None:
    """The API's CRUD round trip, on the real database."""
    created = client.post("/api/tickets", json={"title": "Disk full"}, headers=AUTH)
    ticket_id = created.json()["id"]
    updated = client.patch(f"/api/tickets/{ticket_id}", json={"status": "closed"}, headers=AUTH)
    listed = client.get("/api/tickets", headers=AUTH).json()["tickets"]
    deleted = client.delete(f"/api/tickets/{ticket_id}", headers=AUTH)
    gone = client.get(f"/api/tickets/{ticket_id}", headers=AUTH)

    assert created.status_code == 201
    assert updated.json()["status"] == "closed"
    assert ticket_id in [t["id"] for t in listed]
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_invalid_tickets_are_refused_with_a_reason(client: httpx.Client) -> None:
    """An empty title or an unknown status: 422 saying what is wrong."""
    empty = client.post("/api/tickets", json={"title": " "}, headers=AUTH)
    status = client.post("/api/tickets", json={"title": "x", "status": "lost"}, headers=AUTH)

    assert (empty.status_code, status.status_code) == (422, 422)
    assert "title" in empty.json()["error"]
    assert "status must be one of" in status.json()["error"]


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Service desk"),
        ("/login", "Sign in"),
        ("/dashboard", "Dashboard"),
        ("/tickets", "Tickets"),
    ],
)
def test_pages_render(client: httpx.Client, path: str, heading: str) -> None:
    """Each page answers HTML with its heading and loads its script from /static."""
    response = client.get(path)

    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.text
    assert '<script src="/static/app.js"' in response.text


def test_login_sets_a_session_that_the_api_accepts(client: httpx.Client) -> None:
    """The demo login sets an HttpOnly cookie; the API accepts it instead of a token."""
    wrong = client.post("/login", data={"username": "demo", "password": "nope"})
    right = client.post("/login", data={"username": "demo", "password": "demo-password"})

    assert wrong.status_code == 401
    assert right.status_code == 303
    assert "HttpOnly" in right.headers["set-cookie"]
    assert client.get("/api/tickets").status_code == 200


def test_security_headers_are_sent(client: httpx.Client) -> None:
    """CSP, HSTS, nosniff, Referrer-Policy and frame protection on every response."""
    headers = client.get("/").headers

    assert "script-src 'self'" in headers["content-security-policy"]
    assert "max-age=31536000" in headers["strict-transport-security"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"


def test_metrics_count_requests_by_route_and_status(client: httpx.Client) -> None:
    """/metrics: Prometheus text with the route template, method and status as labels."""
    client.get("/api/tickets/12345", headers=AUTH)

    text = client.get("/metrics").text

    assert 'http_requests_total{method="GET",route="/api/tickets/{id}",status="404"}' in text
    assert "http_request_duration_seconds_bucket" in text


def test_latency_fault_delays_api_and_pages(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """latency=300ms: both an API call and a page take at least that long."""
    service.set_faults(["latency=300ms"])

    api = client.get("/api/version").elapsed.total_seconds()
    page = client.get("/dashboard").elapsed.total_seconds()
    metrics = client.get("/metrics").elapsed.total_seconds()

    assert api >= 0.3
    assert page >= 0.3
    assert metrics < 0.3  # /metrics is exempt, so it can always be read


def test_error_ratio_fault_fails_api_answers(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """error-ratio=1.0: every API answer is a 500; pages still answer."""
    service.set_faults(["error-ratio=1.0"])

    statuses = {client.get("/api/tickets", headers=AUTH).status_code for _ in range(5)}

    assert statuses == {500}
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("fault", "status", "overall", "service_state"),
    [
        ("health=degraded:database", 200, "degraded", ("database", "degraded")),
        ("health=degraded:email", 200, "degraded", ("email", "degraded")),
        ("health=down", 503, "down", ("cache", "healthy")),
        ("db-down", 503, "down", ("database", "down")),
    ],
)
def test_health_faults_are_reported(
    client: httpx.Client,
    service: ReferenceServiceProcess,
    fault: str,
    status: int,
    overall: str,
    service_state: tuple[str, str],
) -> None:
    """Health faults show in /api/health's overall status, HTTP status and services."""
    service.set_faults([fault])

    response = client.get("/api/health")

    name, state = service_state
    assert response.status_code == status
    assert response.json()["status"] == overall
    assert response.json()["services"][name]["status"] == state


def test_db_down_makes_the_api_answer_503(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """db-down: API calls that need the database answer 503 with a JSON reason."""
    service.set_faults(["db-down"])

    response = client.get("/api/tickets", headers=AUTH)

    assert response.status_code == 503
    assert "database unavailable" in response.json()["error"]


def test_version_fault(client: httpx.Client, service: ReferenceServiceProcess) -> None:
    """version=X: /api/version reports X."""
    service.set_faults(["version=6.6.6"])

    assert client.get("/api/version").json()["version"] == "6.6.6"


def test_drop_header_fault(client: httpx.Client, service: ReferenceServiceProcess) -> None:
    """drop-header=NAME: that header goes, the others stay."""
    service.set_faults(["drop-header=Strict-Transport-Security"])

    headers = client.get("/").headers

    assert "strict-transport-security" not in headers
    assert "content-security-policy" in headers


def test_js_error_fault(client: httpx.Client, service: ReferenceServiceProcess) -> None:
    """js-error: pages load a script that throws."""
    service.set_faults(["js-error"])

    page = client.get("/dashboard").text
    script = client.get("/static/js-error.js").text

    assert '<script src="/static/js-error.js"' in page
    assert script.startswith("//") or "throw new Error" in script


def test_slow_page_fault(client: httpx.Client, service: ReferenceServiceProcess) -> None:
    """slow-page=1s: pages take that long; the API does not."""
    service.set_faults(["slow-page=1s"])

    assert client.get("/tickets").elapsed.total_seconds() >= 1.0
    assert client.get("/api/version").elapsed.total_seconds() < 1.0


def connects(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def test_refuse_for_closes_the_listener_then_recovers(start_service: StartService) -> None:
    """refuse-for=2s at run time: connections are refused, then accepted again."""
    service = start_service()
    service.set_faults(["refuse-for=2s"])
    time.sleep(0.3)

    refused = not connects(service.base_url)
    deadline = time.monotonic() + 10
    while not connects(service.base_url) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert refused
    assert httpx.get(f"{service.base_url}/api/version", timeout=5).status_code == 200


def test_admin_endpoint_needs_the_admin_token(client: httpx.Client) -> None:
    """No token: 401; a wrong one: 403; the API token is not the admin token."""
    assert client.post("/_admin/faults", json={"faults": []}).status_code == 401
    assert client.post("/_admin/faults", json={"faults": []}, headers=AUTH).status_code == 403


def test_admin_refuses_a_bad_fault(service: ReferenceServiceProcess) -> None:
    """A bad fault posted at run time: 400 with the reason; nothing changes."""
    with pytest.raises(ReferenceServiceError, match=r"400.*unknown fault 'nonsense'"):
        service.set_faults(["nonsense"])

    assert service.active_faults() == []


def test_faults_given_at_start_are_active(start_service: StartService) -> None:
    """--fault at start: listed by the admin endpoint and in effect."""
    service = start_service("version=2.0.0", "health=degraded:cache")

    assert service.active_faults() == ["health=degraded:cache", "version=2.0.0"]
    assert httpx.get(f"{service.base_url}/api/version").json()["version"] == "2.0.0"


def test_the_rate_limit_answers_429_with_retry_after(start_service: StartService) -> None:
    """Over the limit: 429 with Retry-After in whole seconds; counted in /metrics."""
    service = start_service(rate_limit="1:2")
    with httpx.Client(base_url=service.base_url, timeout=5) as http:
        statuses = [http.get("/api/version").status_code for _ in range(4)]
        limited = http.get("/api/version")
        metrics = http.get("/metrics").text

    assert statuses[:2] == [200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "http_rate_limited_total" in metrics


def test_a_bad_fault_at_start_is_reported(start_service: StartService) -> None:
    """The launcher says why the service did not start (its one-line error)."""
    with pytest.raises(ReferenceServiceError, match="unknown fault 'bogus'"):
        start_service("bogus")


def test_the_api_works_on_postgresql() -> None:
    """A postgresql+psycopg URL: the same CRUD on a real PostgreSQL server, and health."""
    with postgres_server() as pg, ReferenceServiceProcess(database_url=pg.url()) as service:
        http = httpx.Client(base_url=service.base_url, headers=AUTH, timeout=10)
        created = http.post("/api/tickets", json={"title": "on postgres"})
        listed = http.get("/api/tickets").json()["tickets"]
        health = http.get("/api/health").json()
        http.close()

    assert created.status_code == 201
    assert "on postgres" in [t["title"] for t in listed]
    assert len(listed) == 4  # three seeded, one created
    assert health["services"]["database"]["status"] == "healthy"
