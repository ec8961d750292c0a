"""Every exception of releasegate, each with a one-line message fit for a terminal, grouped by
area under one base, `ReleasegateError`.

Three kinds matter to a gate run: `CheckFailed` (an AssertionError: the target was measured and
found wrong), `EvidenceMissing` (the gate could not measure: HOLD), and `UsageError` (the command
was used or configured wrongly: exit code 3). Catch the kind you mean, never the base alone: a
handler for usage errors that caught `ReleasegateError` would turn missing evidence into exit 3.
"""

from __future__ import annotations


class ReleasegateError(Exception):
    """Base of every exception releasegate raises (the reference service under target/ aside)."""


class UsageError(ReleasegateError):
    """A usage or configuration error, reported as one line with exit code 3."""


class ConfigError(UsageError):
    """An environment file, or the choice of one, is wrong: a usage error (exit code 3).

    `problems` keeps every problem found; `str()` is the first one, one line, with a count of the
    rest so `releasegate envs check` can list them all.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems or ["invalid configuration"]
        first = self.problems[0]
        more = len(self.problems) - 1
        super().__init__(first if more == 0 else f"{first} (and {more} more)")


class EvidenceMissing(ReleasegateError):
    """The gate could not measure the target: evidence is missing, the verdict is HOLD.

    Deliberately not an AssertionError: pytest, Allure and results.json then tell "the target was
    measured and found wrong" (a failure) apart from "the gate could not measure" (an error).
    """


class TargetUnreachable(EvidenceMissing):
    """The target could not be reached at all (refused, reset, DNS, connect timeout) after the
    allowed retries. Whether that is the release's fault is `decide`'s call: only when the run
    holds evidence that the runner's network works and the target answered before."""


class RequestNotSent(EvidenceMissing):
    """The gate built a request that cannot be sent (an invalid header value, a bad URL): the
    gate's own fault, found before anything reached the target; never the target's."""


class EvidenceStale(EvidenceMissing):
    """Evidence a check needs exists but does not belong to this run: too old by its own
    recorded time, or taken of another target. It is no evidence (HOLD, rule evidence-stale)."""


class CheckFailed(ReleasegateError, AssertionError):
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


# --- checks (releasegate.checks) ---


class TlsUnreachable(EvidenceMissing):
    """No TLS handshake completed with host:port (refused, timed out, not TLS, DNS)."""


class DatabaseUnreachable(EvidenceMissing):
    """The gate could not talk to the database, so it could not check anything there.

    An `EvidenceMissing`, like an unreachable HTTP target: the verdict is HOLD, not a failure of
    the release. `url` is stored password-free; so is `reason`, the driver's first line.
    """

    def __init__(self, url: str, reason: str, hint: str) -> None:
        # made by `checks.database.unreachable`, which masks the URL and the reason first
        self.url = url
        self.reason = reason
        self.hint = hint
        super().__init__(f"cannot use the database at {self.url}: {self.reason} ({self.hint})")


class ScratchDatabaseError(EvidenceMissing):
    """The server was reached but a scratch database could not be created or dropped: the
    gate's own means of checking failed (a user without CREATEDB), so nothing was judged."""


class MigrationError(ReleasegateError):
    """Something about the migrations went wrong; the message names the file, key or revision.

    Never raised itself: `MigrationFailed` is a finding about the release (the check fails),
    `MigrationsUnreadable` is the gate unable to read or run them (missing evidence, HOLD).
    """


class MigrationFailed(MigrationError):
    """The release's migrations were run and found wrong: a step raised, or two heads."""


class MigrationsUnreadable(MigrationError, EvidenceMissing):
    """The gate could not read or run the migrations, so nothing was judged: the script
    directory or config missing or unreadable, a revision file that does not load here, a
    version query that fails, alembic's own machinery refusing, the database lost midway."""


class BackupError(ReleasegateError):
    """The backup was looked at and found wrong: none found, empty, unreadable, or it does not
    restore. A finding about the target (the check fails), unlike `BackupToolError`."""


class NoBackupFound(BackupError):
    """No file matches the glob: the checklist item "take a backup" was not done."""


class BackupToolError(EvidenceMissing):
    """The gate's own tooling failed, so the backup was not judged: a PostgreSQL client tool
    missing or not runnable, a restore or backup command that timed out, crashed or could not
    reach the server, a backup command that printed no readable time. Missing evidence (HOLD)."""


class SecretScanError(EvidenceMissing):
    """The tree could not be scanned completely, so "no secrets found" cannot be claimed."""


class HealthContractError(ReleasegateError, ValueError):
    """The health endpoint answered, but not in the shape of the contract (a ValueError too,
    as a body that does not parse)."""


# --- browser (releasegate.browser) ---


class BrowserUnavailable(EvidenceMissing):
    """No browser could be found or started: the browser checks cannot measure anything."""


class StepFailed(CheckFailed):
    """A step of a flow found the page wrong (raised by page helpers with what they saw)."""


# --- load (releasegate.load) ---


class LoadRefused(EvidenceMissing):
    """The guardrails refuse this load run (nothing was started)."""


class LoadDidNotRun(EvidenceMissing):
    """Locust crashed, could not load the locustfile, or its workers never came."""


class StatsUnreadable(ReleasegateError):
    """Locust left no statistics, or statistics this version cannot read."""


# --- the report site ---------------------------------------------------------------------


class ReportError(ReleasegateError):
    """Base of the errors of building and publishing the report site."""


class SiteManifestUnreadable(ReportError, UsageError):
    """A published site.json that is not ours: publishing over it would lose its history."""


class PublishFailed(ReportError, UsageError):
    """The site could not be published where `--to` says: a destination of no known form, a
    bucket that is missing or refuses the credentials, git failing, a folder that cannot be
    written. One line saying what went wrong, where, and what to do; exit code 3."""


# --- ops: watch, monitor, rollout ----------------------------------------------------------


class OpsError(ReleasegateError):
    """Base of the errors of the jobs around a deploy: watch, monitor, rollout."""


class TimelineUnreadable(OpsError):
    """A timeline file that is missing or not ours."""


class UptimeUnreadable(OpsError):
    """An uptime.json that is missing, truncated or not ours."""


class MonitorError(OpsError, UsageError):
    """The monitor cannot go on (a check run refused its configuration): one line, exit 3."""


class CheckInterrupted(OpsError):
    """The monitor was stopped while a check ran; that check is not recorded."""


class RolloutError(OpsError, UsageError):
    """The rollout cannot go on as asked (its plan no longer matches it): one line, exit 3."""


class StateUnreadable(OpsError):
    """A rollout state file that is missing, not ours, or of another shape."""


class BaselineUnanswered(EvidenceMissing):
    """No sample of the baseline got an answer from the target: no baseline was written."""


class RolloutRefused(OpsError, UsageError):
    """A rollout command that cannot act as asked (no such rollout, another target, a changed
    plan, another one unfinished): one line, exit 3."""


class RolloutBusy(OpsError):
    """Another process is running this rollout (or starting one of its plan) right now: exit 2."""


# --- slo ---


class SamplesUnreadable(ReleasegateError):
    """A samples or baseline file (`releasegate.samples/1`) that is missing or not ours."""


class PrometheusUnavailable(EvidenceMissing):
    """Prometheus could not be asked, or did not answer the query with a number: the SLO gate
    could not measure (HOLD), with the query in the message."""


# --- metrics ---


class ProviderError(EvidenceMissing):
    """A metric's provider could not give a value: Prometheus or the URL unreachable or refusing,
    a command that failed or timed out, an answer that is not a number or JSON. One measurement
    in error; too many in a row leave the check without evidence (HOLD)."""


class LogUnreadable(EvidenceMissing):
    """A `[[logs]]` source that could not be read (no such file, a command that failed): the
    check could not look, which is never a pass (HOLD)."""


class MetricBaselineUnreadable(ReleasegateError):
    """A metrics-before.json that is not ours or not valid JSON."""
