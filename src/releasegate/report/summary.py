"""A run as the site remembers it: what the index, the objective charts and "what changed
since the last GO" need, and nothing else. The site keeps one per run in `site.json`, so a
site published from one CI job still knows the runs that other jobs published before it.

Summaries are made from masked text only: every message in one has been through the run's
`Redactor`, and a run whose secrets are unknown keeps no free text at all."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate.errors import SiteManifestUnreadable
from releasegate.evidence.results import CheckResult
from releasegate.redact import Redactor
from releasegate.report.indicators import Sli, indicators
from releasegate.report.model import RunView
from releasegate.titles import short_check_id, title_from_check_id

SITE_MANIFEST = "site.json"
RUN_SUMMARY = "summary.json"  # beside each run's page: its entry, should site.json lose it
SITE_SCHEMA = "releasegate.site/1"
_SECURITY_HEADER_CHECK = "::test_security_header["
_CONSOLE_ERRORS = "console errors"
_MESSAGE_CHARS = 400


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CheckSummary(_Model):
    id: str
    title: str
    stage: str
    outcome: str
    blocking: bool = True
    console_errors: int | None = None  # a browser check's count of console errors
    message: str = ""  # kept for checks that did not pass, masked and cut short


class ReasonSummary(_Model):
    title: str  # the check's title, or the rule in words when no check is named
    message: str
    check: str | None = None


class RunSummary(_Model):
    run_id: str
    environment: str
    target_url: str | None = None
    release_version: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    verdict: str
    counts: dict[str, int] = Field(default_factory=dict)
    reasons: list[ReasonSummary] = Field(default_factory=list)
    checks: list[CheckSummary] = Field(default_factory=list)
    slis: list[Sli] = Field(default_factory=list)
    headers: list[str] = Field(default_factory=list)  # security headers the target sent
    withheld: bool = False  # its secrets were unknown: no free text kept

    def check(self, check_id: str) -> CheckSummary | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.started_at.isoformat() if self.started_at else "", self.run_id)


class SiteManifest(_Model):
    schema_: str = Field(default=SITE_SCHEMA, alias="schema")
    runs: list[RunSummary] = Field(default_factory=list)


def check_title(check: CheckResult) -> str:
    """The check's title as recorded, or made from its node id (evidence from before titles)."""
    return check.title or title_from_check_id(check.id)


def _console_errors(check: CheckResult) -> int | None:
    for m in check.measurements:
        if m.name == _CONSOLE_ERRORS and isinstance(m.value, int | float):
            return int(m.value)
    return None


def _headers(checks: list[CheckResult]) -> list[str]:
    """The security headers the target answered with, from the security-header checks."""
    return sorted(
        {
            m.name
            for c in checks
            if _SECURITY_HEADER_CHECK in c.id and c.outcome == "passed"
            for m in c.measurements
            if isinstance(m.value, str) and m.value
        }
    )


def _cut(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def summarise(run: RunView, redactor: Redactor | None) -> RunSummary:
    """`run` as the site remembers it; `redactor` None when its secrets are unknown."""
    free = redactor is not None

    def masked(text: str) -> str:
        return _cut(redactor.redact(text)) if redactor is not None else ""

    results = run.results
    checks = [
        CheckSummary(
            id=c.id,
            title=masked(check_title(c)) if free else title_from_check_id(c.id),
            stage=c.stage or "unstaged",
            outcome=c.outcome,
            blocking=c.blocking,
            console_errors=_console_errors(c),
            message=masked(c.message) if c.outcome in ("failed", "error") else "",
        )
        for c in run.checks
    ]
    titles = {c.id: c.title for c in checks}
    reasons = [
        ReasonSummary(
            title=titles.get(r.check, short_check_id(r.check)) if r.check else r.rule,
            message=masked(r.message),
            check=r.check,
        )
        for r in run.reason_records()
    ]
    return RunSummary(
        run_id=run.run_id,
        environment=run.environment,
        target_url=masked(results.run.target_url or "") or None if results else None,
        release_version=results.run.release_version if results else None,
        started_at=run.started_at,
        duration_s=run.duration_s,
        verdict=run.verdict,
        counts={
            o: sum(1 for c in run.checks if c.outcome == o)
            for o in ("passed", "failed", "error", "skipped")
        },
        reasons=reasons if free else [],
        checks=checks,
        slis=indicators(run.checks),
        headers=_headers(run.checks),
        withheld=not free,
    )


def read_manifest(text: str, where: str) -> list[RunSummary]:
    """The runs of a published `site.json`; one that cannot be read stops the build, because
    publishing over it would drop the history it holds."""
    try:
        manifest = SiteManifest.model_validate_json(text)
    except ValidationError as exc:
        problem = exc.errors()[0]
        place = ".".join(str(p) for p in problem["loc"]) or "the document"
        raise SiteManifestUnreadable(
            f"{where}: not a releasegate site manifest ({place}: {problem['msg']}); move it"
            " away or publish to another place"
        ) from None
    if manifest.schema_ != SITE_SCHEMA:
        raise SiteManifestUnreadable(
            f"{where}: schema {manifest.schema_!r}, expected {SITE_SCHEMA!r}; publish with the"
            " releasegate version that wrote it, or to another place"
        )
    return manifest.runs


def merge(local: list[RunSummary], published: list[RunSummary]) -> list[RunSummary]:
    """Every run once, newest first; a run built here replaces its published copy."""
    here = {r.run_id for r in local}
    runs = [*local, *(r for r in published if r.run_id not in here)]
    return sorted(runs, key=lambda r: r.sort_key, reverse=True)


def write_summary(page_dir: Path, run: RunSummary) -> None:
    (page_dir / RUN_SUMMARY).write_text(run.model_dump_json(indent=1) + "\n", encoding="utf-8")


def write_manifest(out: Path, runs: list[RunSummary]) -> None:
    text = SiteManifest(runs=runs).model_dump_json(by_alias=True, indent=1)
    (out / SITE_MANIFEST).write_text(text + "\n", encoding="utf-8")


def previous_go(run: RunSummary, runs: list[RunSummary]) -> RunSummary | None:
    """The newest GO of the same environment started before `run`."""
    earlier = [
        r
        for r in runs
        if r.environment == run.environment
        and r.verdict == "GO"
        and r.run_id != run.run_id
        and r.sort_key < run.sort_key
    ]
    return max(earlier, key=lambda r: r.sort_key, default=None)
