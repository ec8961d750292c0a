"""A locustfile that tries to send load somewhere other than the target."""

from locust import FastHttpUser, constant, task


class Elsewhere(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def other_host(self) -> None:
        self.client.get("http://127.0.0.2:9/not-the-target", name="elsewhere")
