"""Exceptions that cross module boundaries, each with a one-line message fit for a terminal."""

from __future__ import annotations


class ReleasegateError(Exception):
    """Base for errors releasegate reports to the user as one line."""


class ConfigError(ReleasegateError):
    """An environment file, or the choice of one, is wrong: a usage error (exit code 3).

    `problems` keeps every problem found; `str()` is the first one, one line, with a count of the
    rest so `releasegate envs check` can list them all.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems or ["invalid configuration"]
        first = self.problems[0]
        more = len(self.problems) - 1
        super().__init__(first if more == 0 else f"{first} (and {more} more)")


class EvidenceMissing(Exception):
    """The gate could not measure the target: evidence is missing, the verdict is HOLD.

    Deliberately not an AssertionError: pytest, Allure and results.json then tell "the target was
    measured and found wrong" (a failure) apart from "the gate could not measure" (an error).
    """


class TargetUnreachable(EvidenceMissing):
    """The target could not be reached at all (refused, reset, DNS, connect timeout) after the
    allowed retries. Whether that is the release's fault is `decide`'s call: only when the run
    holds evidence that the runner's network works and the target answered before."""


class EvidenceStale(EvidenceMissing):
    """Evidence a check needs exists but does not belong to this run: too old by its own
    recorded time, or taken of another target. It is no evidence (HOLD, rule evidence-stale)."""


class CheckFailed(AssertionError):
    """The target was measured and found wrong, with the figures that prove it."""

    def __init__(
        self,
        message: str,
        *,
        measured: object = None,
        threshold: object = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.measured = measured
        self.threshold = threshold
        self.url = url


# --- ops: watch, monitor, rollout ----------------------------------------------------------


class OpsError(ReleasegateError):
    """Base of the errors of the jobs around a deploy: watch, monitor, rollout."""


class TimelineUnreadable(OpsError):
    """A timeline file that is missing or not ours."""


class UptimeUnreadable(OpsError):
    """An uptime.json that is missing, truncated or not ours."""


class MonitorError(OpsError):
    """The monitor cannot go on (a check run refused its configuration): one line, exit 3."""


class CheckInterrupted(OpsError):
    """The monitor was stopped while a check ran; that check is not recorded."""


class RolloutError(OpsError):
    """The rollout cannot go on as asked (its plan no longer matches it): one line, exit 3."""


class StateUnreadable(OpsError):
    """A rollout state file that is missing, not ours, or of another shape."""


class BaselineUnanswered(EvidenceMissing):
    """No sample of the baseline got an answer from the target: no baseline was written."""


class RolloutRefused(OpsError):
    """A rollout command that cannot act as asked (no such rollout, another target, a changed
    plan, another one unfinished): one line, exit 3."""


class RolloutBusy(OpsError):
    """Another process is running this rollout (or starting one of its plan) right now: exit 2."""
