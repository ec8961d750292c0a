"""A profile's users that never send a request: a run with nothing to judge."""

from locust import User, constant, task


class Idle(User):
    wait_time = constant(1)

    @task
    def think(self) -> None:
        """Waits, and sends nothing."""
