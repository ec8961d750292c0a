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


# --- slo ---


class SamplesUnreadable(ReleasegateError):
    """A samples or baseline file (`releasegate.samples/1`) that is missing or not ours."""


class PrometheusUnavailable(EvidenceMissing):
    """Prometheus could not be asked, or did not answer the query with a number: the SLO gate
    could not measure (HOLD), with the query in the message."""
