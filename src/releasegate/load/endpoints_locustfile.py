"""The default locustfile: load from the environment's `[[endpoints]]`, for any application.

Loaded into Locust by the gate when `[load] locustfile` is not set (never imported into pytest:
Locust patches the standard library with gevent). Each endpoint is a task weighted by its
`weight`; those that change data carry the `writes` tag, which read-only environments exclude
(the gate leaves them out of the list there already). The target's headers go with every
request; the think time is the profile's.
"""

from __future__ import annotations

from collections.abc import Callable

from locust import FastHttpUser, between, tag

from releasegate.load.params import LoadParams

PARAMS = LoadParams.from_environ()


def _call(endpoint: dict[str, object]) -> Callable[[FastHttpUser], None]:
    method, path, name = str(endpoint["method"]), str(endpoint["path"]), str(endpoint["name"])

    def call(user: FastHttpUser) -> None:
        user.client.request(method, path, name=name, headers=PARAMS.headers)

    call.__name__ = name
    return tag("writes")(call) if endpoint.get("writes") else call


class EndpointUser(FastHttpUser):
    """A client calling the listed endpoints, each as often as its weight says."""

    wait_time = between(PARAMS.wait_min_s, PARAMS.wait_max_s)
    # Locust picks uniformly from this list: an endpoint is in it `weight` times (what Locust
    # makes of a {task: weight} dict, written out so the type is Locust's own)
    tasks = [  # noqa: RUF012 - Locust reads the tasks from a class attribute
        call for e in PARAMS.endpoints for call in [_call(e)] * int(str(e["weight"]))
    ]
