"""As many requests as one user can send: for the max_requests cap."""

from locust import FastHttpUser, task


class Busy(FastHttpUser):
    @task
    def version(self) -> None:
        self.client.get("/api/version", name="GET /api/version")
