"""Guardrails inside the Locust processes (loaded with the locustfile by the gate; imports locust,
so never import this module elsewhere).

- Requests may only go to the target's origin: an absolute URL elsewhere is refused (counted as
  a failure named `OFF_TARGET`, and the run is stopped).
- The run stops after `max_requests` requests, and when the failure ratio stays above
  `abort_failure_ratio` for `abort_after_s` seconds.
- Why it stopped is written to `guard_file` (JSON), for the gate to report.
- Which requests were answered: Locust's histogram counts a refused connection as a 5 ms
  request. Per request name, the answered requests' response times and the unanswered ones'
  (a failure without a response: connection errors, timeouts) are kept apart, bucketed like
  Locust's, sent from workers to the master with Locust's own reports, and written to
  `answered_file` when Locust ends (after its own statistics, so at least as complete).

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
from locust.stats import bucket_response_time

from releasegate.load.params import OFF_TARGET, LoadParams
from releasegate.load.stats import ANSWERED_VERSION
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


_role = "process"


@events.init.add_listener
def _announce(environment: Environment, **_: Any) -> None:
    global _role
    role = "master" if isinstance(environment.runner, MasterRunner) else "process"
    if isinstance(environment.runner, WorkerRunner):
        role = "worker"
    _role = role
    print(f"releasegate guard: {role}, target {PARAMS.target or '(any)'}", flush=True)


# (method, name) -> {"answered": n, "answered_times": {ms: n}, "unanswered_times": {ms: n}}
# with string keys throughout: it travels to the master in Locust's messages
_REPORT_KEY = "releasegate_answered"
_answered: dict[str, dict[str, Any]] = {}


def _record(method: str, name: str) -> dict[str, Any]:
    key = json.dumps([method, name])
    return _answered.setdefault(
        key, {"answered": 0, "unanswered": 0, "answered_times": {}, "unanswered_times": {}}
    )


def _add(into: dict[str, int], key: str, count: int) -> None:
    into[key] = into.get(key, 0) + count


@events.request.add_listener
def _sort_answered(
    request_type: str,
    name: str,
    response_time: float | None,
    exception: BaseException | None = None,
    response: Any = None,
    **_: Any,
) -> None:
    """Answered: a success, or a failure that came with a response (an HTTP error status).
    Unanswered: a failure without one (Locust's clients give status 0 for those)."""
    answered = exception is None or bool(getattr(response, "status_code", 0) or 0)
    record = _record(request_type, name)
    record["answered" if answered else "unanswered"] += 1
    if response_time is not None:
        times = record["answered_times" if answered else "unanswered_times"]
        _add(times, str(bucket_response_time(response_time)), 1)


@events.report_to_master.add_listener
def _send_answered(data: dict[str, Any], **_: Any) -> None:
    data[_REPORT_KEY] = dict(_answered)
    _answered.clear()


@events.worker_report.add_listener
def _merge_answered(data: dict[str, Any], **_: Any) -> None:
    for key, theirs in (data.get(_REPORT_KEY) or {}).items():
        method, name = json.loads(key)
        ours = _record(method, name)
        ours["answered"] += theirs["answered"]
        ours["unanswered"] += theirs["unanswered"]
        for field in ("answered_times", "unanswered_times"):
            for ms, count in theirs[field].items():
                _add(ours[field], ms, count)


@events.quit.add_listener
def _write_answered(**_: Any) -> None:
    # workers send theirs to the master; only the master (or the only process) writes
    if not PARAMS.answered_file or _role == "worker":
        return
    endpoints = []
    for key, record in _answered.items():
        method, name = json.loads(key)
        endpoints.append({"method": method, "name": name, **record})
    document = {"version": ANSWERED_VERSION, "endpoints": endpoints}
    Path(PARAMS.answered_file).write_text(json.dumps(document), encoding="utf-8")
