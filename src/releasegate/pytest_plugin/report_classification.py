"""Classification of reports: each test report gets `report.releasegate`, the evidence of the
check (its title, stage, whether it blocks, cause, a short message, its new measurements and
artefacts). The title is made at collection, from the test function's docstring and its
parametrization (`releasegate.titles`).

The cause tells "the target was measured and found wrong" (product) from "the gate could not
measure" (inconclusive, unreachable, stale), so the decision never guesses from pytest's phases.
Workers classify their own reports, because only they hold the exception; the controller's
`evidence_writer.EvidenceWriter` merges what they send.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from releasegate.errors import EvidenceMissing, EvidenceStale, TargetUnreachable
from releasegate.evidence.results import (
    CAUSE_INCONCLUSIVE,
    CAUSE_PRODUCT,
    CAUSE_STALE,
    CAUSE_UNREACHABLE,
)
from releasegate.pytest_plugin._keys import (
    ARTEFACTS,
    ARTEFACTS_SENT,
    GATE_RUN,
    MEASUREMENTS,
    MEASUREMENTS_SENT,
    TITLE,
)
from releasegate.pytest_plugin.attachments import attach
from releasegate.pytest_plugin.report_redaction import redact_measurement, redact_report
from releasegate.stages import STAGES
from releasegate.titles import check_title, title_from_check_id

_MESSAGE_LIMIT = 600


def stage_of(item: pytest.Item) -> str | None:
    """The stage marker of `item` (set by its suite folder), or None."""
    return next((m.name for m in item.iter_markers() if m.name in STAGES), None)


def title_of(item: pytest.Item) -> str:
    """The check's title: its function's docstring's first sentence, the parametrization's
    arguments and id filled in (`releasegate.titles.check_title`); an item that is not a test
    function (a doctest, a plugin's own item) is named from its node id."""
    function = getattr(item, "function", None)
    if function is None:
        return title_from_check_id(item.nodeid)
    callspec = getattr(item, "callspec", None)
    return check_title(
        function.__doc__,
        getattr(item, "originalname", None) or function.__name__,
        dict(callspec.params) if callspec is not None else {},
        callspec.id if callspec is not None else None,
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every check's title, once, at collection (on each xdist worker, which runs it)."""
    if config.stash.get(GATE_RUN, None) is None:
        return
    for item in items:
        item.stash[TITLE] = title_of(item)


def _message(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str:
    if report.passed:
        return ""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if call.excinfo is None:
        return str(report.longrepr or "")[:_MESSAGE_LIMIT]
    value = call.excinfo.value
    text = str(value).split("\nassert ")[0].strip()
    if not isinstance(value, AssertionError) or not text:
        text = f"{call.excinfo.typename}: {text}" if text else call.excinfo.exconly()
    return " ".join(text.split())[:_MESSAGE_LIMIT]


def _cause(report: pytest.TestReport, call: pytest.CallInfo[None]) -> str | None:
    if not report.failed or call.excinfo is None:
        return None
    value = call.excinfo.value
    if isinstance(value, TargetUnreachable):
        return CAUSE_UNREACHABLE  # in any phase: a fixture that fetched may have found it
    if isinstance(value, EvidenceStale):
        return CAUSE_STALE
    if isinstance(value, EvidenceMissing):
        return CAUSE_INCONCLUSIVE
    if isinstance(value, AssertionError | pytest.fail.Exception):
        return CAUSE_PRODUCT
    return CAUSE_INCONCLUSIVE  # any other exception: the gate itself broke, nothing was judged


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    run = item.config.stash.get(GATE_RUN, None)
    if run is None:
        return report
    redact = run.redactor.redact
    measurements = item.stash.get(MEASUREMENTS, [])
    sent = item.stash.get(MEASUREMENTS_SENT, 0)
    item.stash[MEASUREMENTS_SENT] = len(measurements)
    artefacts = item.stash.get(ARTEFACTS, [])
    new_artefacts = artefacts[item.stash.get(ARTEFACTS_SENT, 0) :]
    item.stash[ARTEFACTS_SENT] = len(artefacts)
    attach(item, report, new_artefacts, run.run_dir)
    # plain JSON types only: xdist serialises report attributes to send them to the controller
    title = item.stash.get(TITLE, None) or title_of(item)
    report.releasegate = {  # type: ignore[attr-defined]
        # parameters may come from ${VAR} values of the environment file: masked like messages
        "title": redact(title),
        "stage": stage_of(item),
        "blocking": item.get_closest_marker("advisory") is None,
        "cause": _cause(report, call),
        "message": redact(_message(report, call)),
        "measurements": [redact_measurement(m, redact) for m in measurements[sent:]],
        "artefacts": [a.path for a in new_artefacts],
    }
    redact_report(report, run.redactor)
    return report


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """A check that could not measure reads as ERROR, not FAILED, in the terminal too."""
    data = getattr(report, "releasegate", None)
    inconclusive = (CAUSE_INCONCLUSIVE, CAUSE_UNREACHABLE, CAUSE_STALE)
    if report.when == "call" and report.failed and data and data["cause"] in inconclusive:
        return "error", "E", "ERROR"
    return None
