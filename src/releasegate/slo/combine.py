"""One verdict per objective from every source that measured it (synthetic samples, Prometheus,
the load stage's statistics).

The rule: a conclusive failure in any source fails the objective (a source that saw it broken
outweighs one that did not look closely enough); otherwise a target no source could reach is
unreachable (a pass measured earlier in a Prometheus window does not hide it); otherwise a
conclusive pass in any source passes it; only when every source is inconclusive (or could not
be read) is the objective inconclusive. The message names the source that decided and shows
every source's own line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from releasegate.errors import TargetUnreachable
from releasegate.outcome import Judged, Judgement
from releasegate.slo.objectives import Objective

_WORD = {
    Judgement.PASS: "met",
    Judgement.FAIL: "failed",
    Judgement.INCONCLUSIVE: "could not tell",
}


@dataclass(frozen=True)
class SourceReading:
    """What one source said of the objective: its judgement, or why it could not be read
    (`error`, e.g. Prometheus down); `unreachable` when it found the target unreachable."""

    source: str
    judged: Judged | None = None
    error: str | None = None
    unreachable: TargetUnreachable | None = None

    @property
    def judgement(self) -> Judgement:
        return self.judged.judgement if self.judged else Judgement.INCONCLUSIVE

    def line(self) -> str:
        if self.unreachable is not None:
            return f"{self.source}: unreachable: {self.unreachable}"
        if self.judged is None:
            return f"{self.source}: could not be read: {self.error}"
        return f"{self.source}: {_WORD[self.judgement]}: {self.judged.message}"


def deciding(readings: Sequence[SourceReading]) -> list[str]:
    """The sources whose reading decides: those that failed it, else those that passed it."""
    failed = [r.source for r in readings if r.judgement is Judgement.FAIL]
    return failed or [r.source for r in readings if r.judgement is Judgement.PASS]


def combine(objective: Objective, readings: Sequence[SourceReading]) -> Judged:
    """The objective's verdict from its sources' readings (the rule above); raises the
    first source's `TargetUnreachable` when that decides."""
    if not readings:
        return Judged.inconclusive(f"{objective.name}: no source measured it")
    failed = [r for r in readings if r.judgement is Judgement.FAIL]
    unreachable = [r for r in readings if r.unreachable is not None]
    if not failed and unreachable:
        first = unreachable[0].unreachable
        assert first is not None
        raise first
    passed = [r for r in readings if r.judgement is Judgement.PASS]
    deciding = failed or passed
    judgement = Judgement.FAIL if failed else Judgement.PASS if passed else Judgement.INCONCLUSIVE
    lines = "; ".join(r.line() for r in readings)
    if deciding:
        names = ", ".join(r.source for r in deciding)
        head = f"{objective.name} {_WORD[judgement]} (decided by {names})"
        first_judged = deciding[0].judged
        assert first_judged is not None
        return Judged(
            judgement,
            f"{head}. {lines}",
            first_judged.measured,
            first_judged.limit,
            first_judged.samples,
            first_judged.where,
        )
    return Judged.inconclusive(
        f"{objective.name}: no source could tell ({len(readings)} tried). {lines}",
        limit=objective.limit,
    )
