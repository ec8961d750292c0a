"""Load on the reference service: people browsing its pages, API clients reading, and (marked
`writes`, left out on read-only environments) clients creating and deleting tickets.

The target, the API token and the think time come from the gate (the environment file);
by hand: locust -f loadtests/reference.py --headless --host http://127.0.0.1:PORT
"""

from locust import FastHttpUser, between, tag, task

from releasegate.load.params import LoadParams

PARAMS = LoadParams.from_environ()


class PageVisitor(FastHttpUser):
    """Someone clicking through the pages."""

    weight = 3
    wait_time = between(PARAMS.wait_min_s, PARAMS.wait_max_s)

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="GET /")

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/dashboard", name="GET /dashboard")

    @task(2)
    def tickets(self) -> None:
        self.client.get("/tickets", name="GET /tickets")


class ApiReader(FastHttpUser):
    """An API client reading tickets and the version."""

    weight = 2
    wait_time = between(PARAMS.wait_min_s, PARAMS.wait_max_s)

    @task(3)
    def list_tickets(self) -> None:
        self.client.get("/api/tickets", name="GET /api/tickets", headers=PARAMS.headers)

    @task(1)
    def version(self) -> None:
        self.client.get("/api/version", name="GET /api/version")


class TicketWriter(FastHttpUser):
    """An API client creating a ticket and deleting it again."""

    weight = 1
    wait_time = between(PARAMS.wait_min_s, PARAMS.wait_max_s)

    @tag("writes")
    @task
    def create_and_delete(self) -> None:
        body = {"title": "releasegate load", "status": "open"}
        with self.client.post(
            "/api/tickets",
            json=body,
            headers=PARAMS.headers,
            name="POST /api/tickets",
            catch_response=True,
        ) as created:
            if created.status_code != 201:
                created.failure(f"expected 201, got {created.status_code}")
                return
            ticket = created.json().get("id")
        self.client.delete(
            f"/api/tickets/{ticket}", headers=PARAMS.headers, name="DELETE /api/tickets/{id}"
        )
