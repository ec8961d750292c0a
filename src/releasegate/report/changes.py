"""What changed since the last GO of the same environment: the first thing a person asks when
a release is held or rolled back. Compared from the two runs' summaries, so a run published
by another CI job is as good a last GO as one on this disk.

An indicator counts as moved only when the difference is larger than the noise of the
measurement: when both runs measured an interval, the two intervals do not overlap (a
conservative test: two 95 % intervals apart mean a difference well beyond 95 %); when only one
did, the other run's value lies outside it. Indicators measured without any interval are
charted side by side but never called moved."""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.report.indicators import Sli
from releasegate.report.summary import RunSummary

# how an outcome reads in a sentence, and which changes are for the worse
_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "could not measure",
    "skipped": "skipped",
}
_RANK = {"passed": 0, "skipped": 1, "error": 2, "failed": 3}


@dataclass(frozen=True)
class OutcomeChange:
    title: str
    check: str
    before: str
    now: str

    @property
    def worse(self) -> bool:
        return _RANK.get(self.now, 0) > _RANK.get(self.before, 0)

    def line(self) -> str:
        before, now = _WORDS.get(self.before, self.before), _WORDS.get(self.now, self.now)
        return f"{self.title}: {before} → {now}"


@dataclass(frozen=True)
class SliMove:
    name: str
    before: float
    now: float
    unit: str
    interval: tuple[float, float]
    interval_of: str  # "this run" or "the last GO"
    both: bool  # both runs measured an interval, and the two do not overlap
    worse: bool

    def line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        low, high = self.interval
        way = "worse" if self.worse else "better"
        beyond = (
            f"the intervals do not overlap; this run's is {_num(low)} to {_num(high)}{unit}"
            if self.both
            else f"outside {self.interval_of}'s interval {_num(low)} to {_num(high)}{unit}"
        )
        return f"{self.name}: {_num(self.before)}{unit} → {_num(self.now)}{unit} ({way}; {beyond})"


@dataclass(frozen=True)
class ConsoleChange:
    title: str
    before: int | None
    now: int
    message: str


@dataclass(frozen=True)
class Changes:
    previous: RunSummary
    release_before: str | None
    release_now: str | None
    outcomes: list[OutcomeChange] = field(default_factory=list)
    new_checks: list[str] = field(default_factory=list)  # titles of checks the last GO lacked
    gone_checks: list[str] = field(default_factory=list)
    moved: list[SliMove] = field(default_factory=list)
    steady: int = 0  # indicators compared that stayed within their interval
    not_compared: int = 0  # indicators without an interval in either run
    console: list[ConsoleChange] = field(default_factory=list)
    headers_missing: list[str] = field(default_factory=list)
    headers_new: list[str] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not (
            self.outcomes
            or self.moved
            or self.console
            or self.headers_missing
            or self.headers_new
            or self.new_checks
            or self.gone_checks
        )

    def release_line(self) -> str:
        before, now = self.release_before or "unknown", self.release_now or "unknown"
        if before == now:
            return f"Same release as the last GO: {now}."
        return f"Release {before} (last GO) → {now} (this run)."


def _num(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 or value.is_integer() else f"{value:.3g}"


def _interval(sli: Sli) -> tuple[float, float] | None:
    return (sli.low, sli.high) if sli.low is not None and sli.high is not None else None


def _move(now: Sli, before: Sli) -> SliMove | None:
    """A move beyond the noise, when either run measured an interval."""
    mine, theirs = _interval(now), _interval(before)
    if mine is not None and theirs is not None:
        apart = mine[1] < theirs[0] or theirs[1] < mine[0]
        interval, of = mine, "this run"
    elif mine is not None:
        apart, interval, of = not mine[0] <= before.value <= mine[1], mine, "this run"
    elif theirs is not None:
        apart, interval, of = not theirs[0] <= now.value <= theirs[1], theirs, "the last GO"
    else:
        return None
    if not apart:
        return None
    return SliMove(
        name=now.name,
        before=before.value,
        now=now.value,
        unit=now.unit,
        interval=interval,
        interval_of=of,
        both=mine is not None and theirs is not None,
        worse=(now.value > before.value) != now.higher_is_better(),
    )


def _outcomes(run: RunSummary, previous: RunSummary) -> list[OutcomeChange]:
    changed = []
    for check in run.checks:
        before = previous.check(check.id)
        if before is not None and before.outcome != check.outcome:
            changed.append(OutcomeChange(check.title, check.id, before.outcome, check.outcome))
    return sorted(changed, key=lambda c: (not c.worse, c.title))


def _console(run: RunSummary, previous: RunSummary) -> list[ConsoleChange]:
    found = []
    for check in run.checks:
        if not check.console_errors:
            continue
        before = previous.check(check.id)
        count = before.console_errors if before is not None else None
        if count is None or check.console_errors > count:
            found.append(ConsoleChange(check.title, count, check.console_errors, check.message))
    return found


def compare(run: RunSummary, previous: RunSummary) -> Changes:
    """`run` against `previous` (its environment's last GO)."""
    moved: list[SliMove] = []
    steady = not_compared = 0
    before_slis = {(s.key, s.series): s for s in previous.slis}
    for sli in run.slis:
        before = before_slis.get((sli.key, sli.series))
        if before is None:
            continue
        move = _move(sli, before)
        if move is not None:
            moved.append(move)
        elif (sli.low, sli.high) == (None, None) and (before.low, before.high) == (None, None):
            not_compared += 1
        else:
            steady += 1
    ids_now = {c.id for c in run.checks}
    ids_before = {c.id for c in previous.checks}
    return Changes(
        previous=previous,
        release_before=previous.release_version,
        release_now=run.release_version,
        outcomes=_outcomes(run, previous),
        new_checks=sorted(c.title for c in run.checks if c.id not in ids_before),
        gone_checks=sorted(c.title for c in previous.checks if c.id not in ids_now),
        moved=sorted(moved, key=lambda m: (not m.worse, m.name)),
        steady=steady,
        not_compared=not_compared,
        console=_console(run, previous),
        headers_missing=sorted(set(previous.headers) - set(run.headers)),
        headers_new=sorted(set(run.headers) - set(previous.headers)),
    )
