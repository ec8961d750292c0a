"""The reference service, started for real as a subprocess: its contract and each fault's effect.

Most tests share one service and switch faults at run time (cleared after each test); the ones
that need a service of their own (start-time faults, a tiny rate limit, refusals) start one.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess

TOKEN = "local-demo-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECURITY_HEADERS = {
    "content-security-policy",
    "strict-transport-security",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
}

Launch = Callable[..., ReferenceServiceProcess]


@pytest.fixture(scope="module")
def service() -> Iterator[ReferenceServiceProcess]:
    """One healthy service shared by the module (in-memory SQLite)."""
    with ReferenceServiceProcess() as started:
        yield started


@pytest.fixture
def client(service: ReferenceServiceProcess) -> Iterator[httpx.Client]:
    """A client of the shared service; the faults a test switched on are cleared after it."""
    with httpx.Client(base_url=service.base_url, timeout=10) as http:
        yield http
    service.clear_faults()


@pytest.fixture
def launch() -> Iterator[Launch]:
    """Start a service of the test's own (`launch("db-down", rate_limit="1:2")`); all stopped
    at the end."""
    started: list[ReferenceServiceProcess] = []

    def start(*faults: str, **options: Any) -> ReferenceServiceProcess:
        service = ReferenceServiceProcess(faults=list(faults), **options)
        started.append(service)
        return service.start()

    yield start
    for service in started:
        service.stop()


def accepts_connections(base_url: str) -> bool:
    """Whether a new TCP connection to the service is accepted."""
    url = httpx.URL(base_url)
    try:
        with socket.create_connection((url.host, url.port or 80), timeout=1):
            return True
    except OSError:
        return False


def timed_get(client: httpx.Client, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    """The response and the seconds it took, measured around the whole call."""
    started = time.perf_counter()
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    return response, time.perf_counter() - started


# --- the healthy contract ----------------------------------------------------------------------


def test_health_reports_every_service_healthy(client: httpx.Client) -> None:
    """/api/health: healthy, database (a real SELECT 1), cache and email, each timed."""
    response = client.get("/api/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert set(body["services"]) == {"database", "cache", "email"}
    assert all(s["status"] == "healthy" for s in body["services"].values())
    assert all(isinstance(s["latency_ms"], float) for s in body["services"].values())
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None


def test_version_reports_version_commit_and_start(client: httpx.Client) -> None:
    """/api/version: the version started with, a commit, and when it started."""
    body = client.get("/api/version").json()

    assert body["version"] == "1.0.0"
    assert body["commit"]
    assert datetime.fromisoformat(body["started_at"]).tzinfo is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/tickets"),
        ("POST", "/api/tickets"),
        ("GET", "/api/tickets/1"),
        ("PUT", "/api/tickets/1"),
        ("DELETE", "/api/tickets/1"),
        ("GET", "/api/no-such-thing"),
    ],
)
def test_the_api_needs_a_token(client: httpx.Client, method: str, path: str) -> None:
    """Everything under /api but health and version: 401 with a JSON reason without a token."""
    response = client.request(method, path, json={"title": "x"})

    assert response.status_code == 401
    assert "authentication required" in response.json()["error"]


def test_a_wrong_token_is_refused_and_the_right_one_accepted(client: httpx.Client) -> None:
    """Bearer with the wrong token: 401; the configured one: 200."""
    wrong = client.get("/api/tickets", headers={"Authorization": "Bearer not-the-token"})
    right = client.get("/api/tickets", headers=AUTH)

    assert wrong.status_code == 401
    assert right.status_code == 200
    assert len(right.json()["tickets"]) >= 3  # seeded


def test_tickets_can_be_created_read_replaced_changed_and_deleted(client: httpx.Client) -> None:
    """The CRUD round trip on the real database."""
    created = client.post("/api/tickets", json={"title": "Disk full"}, headers=AUTH)
    ticket_id = created.json()["id"]
    path = f"/api/tickets/{ticket_id}"
    read = client.get(path, headers=AUTH)
    replaced = client.put(path, json={"title": "Disk 95% full", "status": "open"}, headers=AUTH)
    changed = client.patch(path, json={"status": "closed"}, headers=AUTH)
    listed = client.get("/api/tickets", headers=AUTH).json()["tickets"]
    deleted = client.delete(path, headers=AUTH)
    gone = client.get(path, headers=AUTH)

    assert created.status_code == 201
    assert created.headers["location"] == path
    assert created.json()["status"] == "open"
    assert read.json()["title"] == "Disk full"
    assert replaced.json()["title"] == "Disk 95% full"
    assert (changed.json()["title"], changed.json()["status"]) == ("Disk 95% full", "closed")
    assert [t["status"] for t in listed if t["id"] == ticket_id] == ["closed"]
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["error"] == f"no ticket '{ticket_id}'"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/tickets/999999", None),
        ("GET", "/api/tickets/99999999999", None),
        ("GET", "/api/tickets/abc", None),
        ("PATCH", "/api/tickets/999999", {"status": "closed"}),
        ("DELETE", "/api/tickets/999999", None),
    ],
    ids=["get", "beyond-integer", "not-a-number", "patch", "delete"],
)
def test_missing_tickets_are_404_json(
    client: httpx.Client, method: str, path: str, body: object
) -> None:
    """A ticket that does not exist: 404 with a JSON reason, never a database error."""
    response = client.request(method, path, json=body, headers=AUTH)

    assert response.status_code == 404
    assert response.json()["error"].startswith("no ticket")


def test_invalid_tickets_are_refused_with_a_reason(client: httpx.Client) -> None:
    """An empty title, an unknown status, a body that is not JSON: 422 saying what is wrong."""
    empty = client.post("/api/tickets", json={"title": " "}, headers=AUTH)
    status = client.post("/api/tickets", json={"title": "x", "status": "lost"}, headers=AUTH)
    not_json = client.post("/api/tickets", content=b"{title", headers=AUTH)

    assert [r.status_code for r in (empty, status, not_json)] == [422, 422, 422]
    assert "title is required" in empty.json()["error"]
    assert "status must be one of" in status.json()["error"]
    assert "must be JSON" in not_json.json()["error"]


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Service desk"),
        ("/login", "Sign in"),
        ("/dashboard", "Dashboard"),
        ("/tickets", "Tickets"),
    ],
)
def test_pages_render_with_their_heading_and_script(
    client: httpx.Client, path: str, heading: str
) -> None:
    """Each page: HTML, its <h1>, app.js from /static and no inline script."""
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in response.text
    assert '<script src="/static/app.js" defer></script>' in response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)


def test_the_tickets_page_lists_tickets_with_test_ids(client: httpx.Client) -> None:
    """Server-rendered rows and the create form carry the ids a browser test drives."""
    created = client.post("/api/tickets", json={"title": "<b>escaped</b>"}, headers=AUTH).json()

    page = client.get("/tickets").text

    for testid in ("ticket-form", "ticket-title-input", "ticket-create", "ticket-list"):
        assert f'data-testid="{testid}"' in page
    assert f'data-testid="ticket-row" data-ticket-id="{created["id"]}"' in page
    assert "&lt;b&gt;escaped&lt;/b&gt;" in page
    assert "<b>escaped</b>" not in page


def test_the_dashboard_counts_tickets_by_status(client: httpx.Client) -> None:
    """The dashboard reads the counts from the database on each request."""

    def open_count() -> int:
        page = client.get("/dashboard").text
        found = re.search(r'data-testid="count-open"><span>open</span><strong>(\d+)<', page)
        assert found, page
        return int(found.group(1))

    before = open_count()
    client.post("/api/tickets", json={"title": "one more"}, headers=AUTH)

    assert open_count() == before + 1


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/static/app.js", "javascript"), ("/static/style.css", "css"), ("/favicon.ico", "svg")],
)
def test_static_files_are_served(client: httpx.Client, path: str, kind: str) -> None:
    """app.js, the stylesheet and the icon (a missing icon is a browser console error)."""
    response = client.get(path)

    assert response.status_code == 200
    assert kind in response.headers["content-type"]


def test_signing_in_gives_a_session_the_api_accepts(service: ReferenceServiceProcess) -> None:
    """Wrong password: 401 and the form again. Right one: an HttpOnly, SameSite=Lax cookie,
    a redirect to the dashboard, and the API answers without a token until sign-out."""
    with httpx.Client(base_url=service.base_url, timeout=10) as browser:
        wrong = browser.post("/login", data={"username": "demo", "password": "nope"})
        right = browser.post("/login", data={"username": "demo", "password": "demo-password"})
        signed_in = browser.get("/api/tickets").status_code
        dashboard = browser.get("/dashboard").text
        browser.post("/logout")
        signed_out = browser.get("/api/tickets").status_code

    cookie = right.headers["set-cookie"].lower()
    assert wrong.status_code == 401
    assert 'data-testid="login-error"' in wrong.text
    assert right.status_code == 303
    assert right.headers["location"] == "/dashboard"
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert signed_in == 200
    assert 'data-testid="logout"' in dashboard
    assert signed_out == 401


@pytest.mark.parametrize(
    "path", ["/", "/api/health", "/api/tickets", "/static/app.js", "/nowhere", "/metrics"]
)
def test_security_headers_are_on_every_response(client: httpx.Client, path: str) -> None:
    """CSP without inline scripts, HSTS, nosniff, Referrer-Policy and X-Frame-Options, on
    pages, API answers (401 too), static files, 404s and /metrics."""
    headers = client.get(path).headers

    assert set(headers) >= SECURITY_HEADERS
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"


def test_metrics_count_requests_by_route_template(client: httpx.Client) -> None:
    """/metrics: Prometheus text labelled by route template, method and status."""
    client.get("/api/tickets/424242", headers=AUTH)
    client.get("/api/tickets/434343", headers=AUTH)

    response = client.get("/metrics")

    text = response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert re.search(
        r'http_requests_total\{method="GET",route="/api/tickets/\{id\}",status="404"\} [2-9]', text
    )
    assert "424242" not in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route=' in text
    assert "# TYPE http_rate_limited_total counter" in text


# --- faults at run time ------------------------------------------------------------------------


def test_latency_delays_api_and_pages_but_not_metrics(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """latency=300ms: an API call and a page take at least that long; /metrics does not."""
    service.set_faults(["latency=300ms"])

    _, api = timed_get(client, "/api/version")
    _, page = timed_get(client, "/dashboard")
    _, metrics = timed_get(client, "/metrics")

    assert api >= 0.3
    assert page >= 0.3
    assert metrics < 0.3


def test_a_latency_range_delays_within_it(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """latency=100ms..250ms: every answer takes at least the low end."""
    service.set_faults(["latency=100ms..250ms"])

    delays = [timed_get(client, "/api/version")[1] for _ in range(3)]

    assert min(delays) >= 0.1
    assert max(delays) < 2.0


def test_error_ratio_one_fails_every_api_answer(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """error-ratio=1.0: every API answer is a JSON 500; pages, /metrics and /_admin answer."""
    service.set_faults(["error-ratio=1.0"])

    statuses = {client.get(p, headers=AUTH).status_code for p in ["/api/tickets", "/api/health"]}
    body = client.get("/api/version").json()

    assert statuses == {500}
    assert "error-ratio" in body["error"]
    assert client.get("/").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert service.active_faults() == ["error-ratio=1"]


@pytest.mark.parametrize(
    ("fault", "code", "overall", "services"),
    [
        ("health=degraded:database", 200, "degraded", {"database": "degraded"}),
        ("health=degraded:email", 200, "degraded", {"email": "degraded", "database": "healthy"}),
        ("health=down", 503, "down", {"database": "healthy"}),
        ("db-down", 503, "down", {"database": "down", "cache": "healthy"}),
    ],
    ids=["degraded-database", "degraded-email", "down", "db-down"],
)
def test_health_faults_are_reported(
    client: httpx.Client,
    service: ReferenceServiceProcess,
    fault: str,
    code: int,
    overall: str,
    services: dict[str, str],
) -> None:
    """Health faults show in the overall status, the HTTP status and the services."""
    service.set_faults([fault])

    response = client.get("/api/health")

    body = response.json()
    assert response.status_code == code
    assert body["status"] == overall
    assert {name: body["services"][name]["status"] for name in services} == services


def test_db_down_makes_database_calls_answer_503(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """db-down: API calls that need the database answer 503 JSON; the dashboard says so;
    calls that do not need it still answer."""
    service.set_faults(["db-down"])

    tickets = client.get("/api/tickets", headers=AUTH)
    created = client.post("/api/tickets", json={"title": "x"}, headers=AUTH)
    dashboard = client.get("/dashboard")

    assert (tickets.status_code, created.status_code) == (503, 503)
    assert tickets.json()["error"].startswith("database unavailable")
    assert dashboard.status_code == 503
    assert 'data-testid="unavailable"' in dashboard.text
    assert client.get("/api/version").status_code == 200


def test_version_fault_reports_the_wrong_version(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """version=X: /api/version reports X."""
    service.set_faults(["version=6.6.6"])

    assert client.get("/api/version").json()["version"] == "6.6.6"


def test_drop_header_removes_only_that_header(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """drop-header=NAME (any case, repeatable): those headers go, the others stay."""
    service.set_faults(["drop-header=strict-transport-security", "drop-header=X-Frame-Options"])

    headers = client.get("/").headers

    assert SECURITY_HEADERS - set(headers) == {"strict-transport-security", "x-frame-options"}


def test_js_error_pages_load_a_script_that_throws(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """js-error: pages load /static/js-error.js, which throws at the top level."""
    healthy_page = client.get("/dashboard").text
    service.set_faults(["js-error"])

    page = client.get("/dashboard").text
    script = client.get("/static/js-error.js").text

    assert "js-error.js" not in healthy_page
    assert '<script src="/static/js-error.js" defer></script>' in page
    assert re.search(r"^throw new Error\(", script, re.MULTILINE)


def test_slow_page_delays_pages_only(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """slow-page=1s: pages take that long; the API and static files do not."""
    service.set_faults(["slow-page=1s"])

    page, page_s = timed_get(client, "/tickets")
    _, api_s = timed_get(client, "/api/version")
    _, static_s = timed_get(client, "/static/app.js")

    assert page.status_code == 200
    assert page_s >= 1.0
    assert api_s < 1.0
    assert static_s < 1.0


def test_faults_switch_on_and_off_at_run_time(
    client: httpx.Client, service: ReferenceServiceProcess
) -> None:
    """POST replaces the set, GET lists it, DELETE clears it, and the effect follows."""
    listed = service.set_faults(["version=2.0.0", "health=degraded:cache"])
    replaced = service.set_faults(["version=3.0.0"])
    during = client.get("/api/version").json()["version"]
    health_during = client.get("/api/health").json()["status"]
    cleared = service.clear_faults()
    after = client.get("/api/version").json()["version"]

    assert listed == ["health=degraded:cache", "version=2.0.0"]
    assert replaced == ["version=3.0.0"]
    assert (during, health_during) == ("3.0.0", "healthy")
    assert cleared == []
    assert after == "1.0.0"


# --- the admin endpoint ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_admin_needs_the_admin_token(client: httpx.Client, method: str) -> None:
    """No token: 401. A wrong one, or the API token: 403. JSON reasons."""
    body = {"faults": ["db-down"]}

    missing = client.request(method, "/_admin/faults", json=body)
    wrong = client.request(
        method, "/_admin/faults", json=body, headers={"Authorization": "Bearer guess"}
    )
    api_token = client.request(method, "/_admin/faults", json=body, headers=AUTH)

    assert missing.status_code == 401
    assert "admin token required" in missing.json()["error"]
    assert (wrong.status_code, api_token.status_code) == (403, 403)
    assert wrong.json()["error"] == "wrong admin token"
    assert client.get("/api/tickets", headers=AUTH).status_code == 200  # db-down not applied


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"faults": ["nonsense"]}, "bad fault 'nonsense': unknown fault name 'nonsense'"),
        ({"faults": ["latency=1s", "health=degraded:kafka"]}, "unknown service 'kafka'"),
        ({"faults": "db-down"}, 'the body must be JSON such as {"faults"'),
        ({"fault": ["db-down"]}, 'the body must be JSON such as {"faults"'),
    ],
    ids=["unknown", "bad-service", "not-a-list", "wrong-key"],
)
def test_admin_refuses_a_bad_fault_and_changes_nothing(
    client: httpx.Client, service: ReferenceServiceProcess, body: object, reason: str
) -> None:
    """A bad request: 400 with the reason, and the active faults stay as they were."""
    service.set_faults(["version=4.0.0"])

    response = client.post(
        "/_admin/faults", json=body, headers={"Authorization": f"Bearer {service.admin_token}"}
    )

    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert service.active_faults() == ["version=4.0.0"]


def test_the_launcher_reports_a_refused_fault(service: ReferenceServiceProcess) -> None:
    """set_faults() raises with the status and the service's reason."""
    with pytest.raises(ReferenceServiceError, match=r"answered 400: .*unknown fault name 'x'"):
        service.set_faults(["x"])


# --- services of their own ---------------------------------------------------------------------


def test_faults_given_at_start_are_active(launch: Launch) -> None:
    """--fault at start: listed by the admin endpoint, and in effect."""
    service = launch("version=2.0.0", "health=degraded:cache", service_version="1.2.3")

    version = httpx.get(f"{service.base_url}/api/version").json()["version"]
    health = httpx.get(f"{service.base_url}/api/health").json()

    assert service.active_faults() == ["health=degraded:cache", "version=2.0.0"]
    assert version == "2.0.0"
    assert health["services"]["cache"]["status"] == "degraded"


def test_the_rate_limit_answers_429_with_retry_after(launch: Launch) -> None:
    """Over the limit, /api answers 429 JSON with Retry-After in whole seconds; pages are not
    limited; /metrics counts the refusals by route."""
    service = launch(rate_limit="1:2")

    with httpx.Client(base_url=service.base_url, timeout=5) as http:
        statuses = [http.get("/api/version").status_code for _ in range(4)]
        limited = http.get("/api/health")
        page = http.get("/")
        metrics = http.get("/metrics").text

    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 429]
    assert limited.status_code == 429
    assert limited.json() == {"error": "rate limit exceeded"}
    assert int(limited.headers["retry-after"]) >= 1
    assert page.status_code == 200
    assert 'http_rate_limited_total{route="/api/version"} 2.0' in metrics
    assert 'http_rate_limited_total{route="/api/health"} 1.0' in metrics


def test_a_seed_makes_the_error_draws_repeatable(launch: Launch) -> None:
    """Two services with the same --seed and error-ratio=0.5 fail the same requests, and
    about half of them."""

    def statuses(service: ReferenceServiceProcess) -> list[int]:
        with httpx.Client(base_url=service.base_url, timeout=5) as http:
            return [http.get("/api/version").status_code for _ in range(40)]

    first = statuses(launch("error-ratio=0.5", seed=7))
    second = statuses(launch("error-ratio=0.5", seed=7))

    assert first == second
    assert 8 <= first.count(500) <= 32


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` every 50 ms until it holds or `timeout_s` passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_refuse_for_at_run_time_refuses_then_recovers(launch: Launch) -> None:
    """refuse-for=1.5s posted at run time: the POST is answered, then new connections and
    kept-alive ones fail, and after that the same port accepts again."""
    service = launch()
    with httpx.Client(base_url=service.base_url, timeout=5) as kept_alive:
        kept_alive.get("/api/version")
        started = time.monotonic()

        listed = service.set_faults(["refuse-for=1.5s", "version=9.0.0"])
        refused = wait_until(lambda: not accepts_connections(service.base_url), 1.0)
        with pytest.raises(httpx.TransportError):
            kept_alive.get("/api/version")
        recovered = wait_until(lambda: accepts_connections(service.base_url), 10.0)
        outage = time.monotonic() - started

    assert listed == ["version=9.0.0"]  # a refusal is an event, not a lasting fault
    assert refused
    assert recovered
    assert 1.3 <= outage < 10.0
    assert httpx.get(f"{service.base_url}/api/version").json()["version"] == "9.0.0"


def test_refuse_for_at_start_announces_then_refuses(launch: Launch) -> None:
    """--fault refuse-for=1s: the address is announced first, then refused, then served."""
    service = launch("refuse-for=1s")

    refused_at_first = not accepts_connections(service.base_url)
    recovered = wait_until(lambda: accepts_connections(service.base_url), 10.0)

    assert refused_at_first
    assert recovered
    assert httpx.get(f"{service.base_url}/api/health").status_code == 200
    assert service.active_faults() == []
