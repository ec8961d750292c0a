"""What the service does between requests: the job worker, the digest scheduler, and the
faults that act over time (`leak`, `log-errors`); also the log file, for as long as the app runs.

`background(app)` is the app's cleanup context: everything starts with the app and stops with
it. Stopping asks each loop to finish what it is doing (a database call runs in a thread and
cannot be cut short), waits a bounded time, then cancels what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from releasegate.target.service_log import EMAIL, JOBS, SERVICE, logging_to
from releasegate.target.state import STATE, State
from releasegate.target.tickets_store import DatabaseError

# A queued job is taken within this long even when no enqueue of this process woke the worker
# (jobs left from before a restart, or enqueued by another worker on the same database).
WORKER_POLL_S = 0.2
BATCH = 50
DIGEST_EVERY_S = 1.0
FAULT_TICK_S = 0.1
LOG_ERRORS_EVERY_S = 0.5
# bounded: a database call in flight may take up to its connect timeout
STOP_WAIT_S = 3.0
# a loop that fails unexpectedly waits this long before it tries again
RETRY_S = 1.0

_JOB_FAILURE = "simulated failure (job-fail fault)"


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class _Outage:
    """Say once when the database stops answering a loop, and once when it is back."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.down = False

    def failed(self, exc: DatabaseError) -> None:
        if not self.down:
            self.down = True
            JOBS.warning("%s paused: database unavailable: %s", self.what, exc)

    def answered(self) -> None:
        if self.down:
            self.down = False
            JOBS.info("%s resumed: the database answers again", self.what)


async def work_jobs(state: State, stop: asyncio.Event) -> None:
    """Process queued jobs, oldest first, in batches; a `job-fail=RATIO` share fails (drawn
    from a random of its own, seeded like the service, so the error draws stay repeatable)."""
    draws = random.Random(state.settings.seed)  # noqa: S311 - fault draws, not security
    outage = _Outage("the job worker")
    while not stop.is_set():
        state.job_enqueued.clear()
        try:
            batch = await state.db(state.jobs.queued, BATCH)
            if batch:
                ratio = state.faults.job_fail
                outcomes = {
                    job_id: _JOB_FAILURE if ratio and draws.random() < ratio else None
                    for job_id, _ in batch
                }
                marked = set(await state.db(state.jobs.finish, outcomes))
                for job_id, kind in batch:
                    if job_id not in marked:
                        continue  # another worker on the same database had it
                    if outcomes[job_id] is None:
                        state.metrics.jobs_processed.inc()
                    else:
                        state.metrics.jobs_failed.inc()
                        JOBS.warning("job %s (%s) failed: %s", job_id, kind, outcomes[job_id])
            outage.answered()
        except DatabaseError as exc:
            outage.failed(exc)
            batch = []
        if len(batch) < BATCH:  # a full batch: more may be waiting, go on at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.job_enqueued.wait(), WORKER_POLL_S)


async def schedule_digests(state: State, stop: asyncio.Event) -> None:
    """Enqueue a `digest` job every second."""
    outage = _Outage("the digest scheduler")
    loop = asyncio.get_running_loop()
    due = loop.time()
    while not stop.is_set():
        try:
            await state.db(state.jobs.enqueue, "digest")
            state.job_enqueued_here()
            outage.answered()
        except DatabaseError as exc:
            outage.failed(exc)
        due = max(due + DIGEST_EVERY_S, loop.time())
        await _pause(stop, due - loop.time())


def _log_an_error() -> None:
    try:
        raise ConnectionRefusedError(111, "Connection refused: mail relay 127.0.0.1:25")
    except ConnectionRefusedError:
        EMAIL.exception("cannot deliver a notification (log-errors fault)")


async def act_on_faults(state: State, stop: asyncio.Event) -> None:
    """The faults that act over time: `leak` grows the held memory every tick, `log-errors`
    writes an ERROR line with a traceback twice a second. Switched off, the leak is freed."""
    last_error_line = 0.0
    try:
        while not stop.is_set():
            now = time.monotonic()
            faults = state.faults
            state.leak.tick(faults.leak_mb_per_s, now)
            if faults.log_errors and now - last_error_line >= LOG_ERRORS_EVERY_S:
                last_error_line = now
                _log_an_error()
            await _pause(stop, FAULT_TICK_S)
    finally:
        state.leak.release()


async def _kept_running(
    loop: Callable[[State, asyncio.Event], Awaitable[None]], state: State, stop: asyncio.Event
) -> None:
    """Run `loop`, again after an unexpected failure (logged with its traceback): a background
    loop that died silently would be a worse fault than any we inject."""
    while not stop.is_set():
        try:
            await loop(state, stop)
        except Exception:
            SERVICE.exception("background task %s failed; restarting it", loop.__name__)
            await _pause(stop, RETRY_S)


async def background(app: web.Application) -> AsyncIterator[None]:
    """The app's cleanup context: the log file, then the loops; stopped in reverse order."""
    state = app[STATE]
    with logging_to(state.settings.log_file):
        stop = asyncio.Event()
        loops = (work_jobs, schedule_digests, act_on_faults)
        tasks = [asyncio.create_task(_kept_running(loop, state, stop)) for loop in loops]
        try:
            yield
        finally:
            stop.set()
            state.job_enqueued.set()  # the worker waits on it, not on `stop`
            _, pending = await asyncio.wait(tasks, timeout=STOP_WAIT_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
