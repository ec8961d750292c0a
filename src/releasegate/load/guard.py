"""Guardrails inside the Locust processes (loaded with the locustfile by the gate; imports locust,
so never import this module elsewhere).

- Requests may only go to the target's origin: an absolute URL elsewhere is refused (counted as
  a failure named `OFF_TARGET`, and the run is stopped).
- The run stops after `max_requests` requests, and when the failure ratio stays above
  `abort_failure_ratio` for `abort_after_s` seconds.
- Why it stopped is written to `guard_file` (JSON), for the gate to report.

Checks run on the process that holds the aggregated statistics: the master, or the only process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
from locust import events
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from releasegate.load.params import OFF_TARGET, LoadParams
from releasegate.net import origin

PARAMS = LoadParams.from_environ()
_CHECK_EVERY_S = 0.25


def _on_target(url: str) -> bool:
    return not urlsplit(url).scheme or origin(url) == origin(PARAMS.target)


def _guarded(request: Any) -> Any:
    def guarded_request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if PARAMS.target and not _on_target(url):
            events.request.fire(
                request_type=method,
                name=OFF_TARGET,
                response_time=0,
                response_length=0,
                exception=PermissionError(f"{method} {url} is not on the target {PARAMS.target}"),
                context={},
            )
            return None
        response = request(self, method, url, *args, **kwargs)
        final = str(getattr(response, "url", "") or "")
        if PARAMS.target and final and not _on_target(final):
            # a redirect took it elsewhere: already sent, so counted and the run stopped
            events.request.fire(
                request_type=method,
                name=OFF_TARGET,
                response_time=0,
                response_length=0,
                exception=PermissionError(
                    f"{method} {url} was redirected off the target to {final}"
                ),
                context={},
            )
        return response

    return guarded_request


HttpSession.request = _guarded(HttpSession.request)  # type: ignore[method-assign]
FastHttpSession.request = _guarded(FastHttpSession.request)  # type: ignore[method-assign]


def _stop(environment: Environment, reason: str, **details: Any) -> None:
    if PARAMS.guard_file:
        record = {"stopped": reason, "at_s": round(time.monotonic() - _started, 2), **details}
        Path(PARAMS.guard_file).write_text(json.dumps(record), encoding="utf-8")
    if environment.runner is not None:
        environment.runner.quit()


def _watch(environment: Environment) -> None:
    above_since: float | None = None
    while True:
        gevent.sleep(_CHECK_EVERY_S)
        total = environment.stats.total
        refused = sum(
            e.num_requests
            for (name, _), e in environment.stats.entries.items()
            if name == OFF_TARGET
        )
        if refused:
            _stop(environment, "off-target", requests=refused)
            return
        if total.num_requests >= PARAMS.max_requests and not _stopping:
            _stop(
                environment, "max-requests", requests=total.num_requests, limit=PARAMS.max_requests
            )
            return
        limit = PARAMS.abort_failure_ratio
        if limit is None or total.num_requests == 0:
            continue
        ratio = total.num_failures / total.num_requests
        now = time.monotonic()
        if ratio <= limit:
            above_since = None
        elif above_since is None:
            above_since = now
        elif now - above_since >= PARAMS.abort_after_s:
            _stop(
                environment,
                "failure-ratio",
                ratio=round(ratio, 4),
                limit=limit,
                sustained_s=round(now - above_since, 2),
            )
            return


_started = time.monotonic()
_environment: Environment | None = None
_stopping = False


@events.request.add_listener
def _count(**_: Any) -> None:
    """In a single process the cap is checked on every request (the periodic check lags and
    a fast user sends thousands a second); a master sees its workers' counts periodically."""
    global _stopping
    environment = _environment
    if _stopping or environment is None or not isinstance(environment.runner, LocalRunner):
        return
    total = environment.stats.total.num_requests
    if total >= PARAMS.max_requests:
        _stopping = True
        # not from inside the request's own greenlet: quitting kills the users' greenlets
        gevent.spawn(_stop, environment, "max-requests", requests=total, limit=PARAMS.max_requests)


@events.test_start.add_listener
def _start_watching(environment: Environment, **_: Any) -> None:
    global _started, _environment
    _started = time.monotonic()
    _environment = environment
    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_watch, environment)


@events.init.add_listener
def _announce(environment: Environment, **_: Any) -> None:
    role = "master" if isinstance(environment.runner, MasterRunner) else "process"
    if isinstance(environment.runner, WorkerRunner):
        role = "worker"
    print(f"releasegate guard: {role}, target {PARAMS.target or '(any)'}", flush=True)
