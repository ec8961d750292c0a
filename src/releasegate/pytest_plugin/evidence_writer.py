"""The controller's writer: results.json (at start, while running, at the end), Allure's
environment and categories, pytest-html's extra column, the verdict line, the secret scrub."""

from __future__ import annotations

import html
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from releasegate import __version__
from releasegate.evidence.decide import decide
from releasegate.evidence.results import (
    CAUSE_CRASH,
    CAUSE_INCONCLUSIVE,
    CAUSE_STALE,
    CAUSE_UNREACHABLE,
    RESULTS_FILE,
    Phase,
    ResultsBuilder,
    RunInfo,
    now,
    stages_in_markexpr,
    write_atomically,
)
from releasegate.evidence.runs import scrub_tree
from releasegate.ops.reachability import gather
from releasegate.pytest_plugin._keys import GateRun
from releasegate.stages import STAGES

# How often results.json is rewritten while tests run: often enough that a killed run leaves
# recent evidence, rarely enough that thousands of checks do not mean thousands of writes. A
# rewrite of a 5,000-check run costs ~20 ms once folded checks are cached, ~110 ms cold
# (bench/evidence_bench.py); the interval also grows with the cost of the last write, keeping
# the writer under ~10 % of the controller's time.
_FLUSH_EVERY_S = 0.5
_FLUSH_COST_FACTOR = 10

_ALLURE_CATEGORIES = [
    {
        "name": "Product defect: the target was measured and found wrong",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Gate could not measure: evidence missing (HOLD)",
        "matchedStatuses": ["broken"],
    },
]


class EvidenceWriter:
    """Registered as a plugin on the controller only; sees every report, from every worker."""

    def __init__(self, config: pytest.Config, run: GateRun) -> None:
        self.config = config
        self.run = run
        markexpr = str(config.getoption("markexpr") or "")
        workers = (
            config.getoption("numprocesses", None)
            if config.pluginmanager.has_plugin("xdist")
            else None
        )
        self.builder = ResultsBuilder(
            RunInfo(
                id=run.run_id,
                environment=run.env.name,
                environment_file=str(run.env.path.resolve()),
                target_url=run.redactor.redact(run.base_url),
                release_version=run.release_version,
                started_at=now(),
                tool_version=__version__,
                stages_requested=stages_in_markexpr(markexpr),
                workers=workers if isinstance(workers, int) else 0,
                policy=run.env.model.policy.model_dump(),
            )
        )
        self._last_flush = 0.0
        self._flush_interval = _FLUSH_EVERY_S
        self._session: pytest.Session | None = None
        self._interrupt_seen = False
        self._previous_sigint: Any = None
        self._watch_sigint()
        self._write()
        self._write_allure_metadata()
        self._add_html_metadata()

    # -- Ctrl-C ---------------------------------------------------------------------------

    def _watch_sigint(self) -> None:
        """Remember every SIGINT, then let it raise as before. A KeyboardInterrupt raised inside
        a plugin's hook wrapper can be turned into a warning, an error or a plain test failure on
        the way up, and the run would read as finished; the flag keeps it an interruption."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN or SIG_DFL: not ours to change
            return
        self._previous_sigint = previous

        def on_sigint(signum: int, frame: Any) -> None:
            self._interrupt_seen = True
            if self._session is not None:
                self._session.shouldstop = "interrupted (SIGINT)"
            previous(signum, frame)

        signal.signal(signal.SIGINT, on_sigint)

    def _restore_sigint(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session

    # -- results.json -----------------------------------------------------------------------

    def _write(self) -> None:
        started = time.monotonic()
        write_atomically(self.run.run_dir / RESULTS_FILE, self.builder.results().to_json())
        self._last_flush = time.monotonic()
        self._flush_interval = max(
            _FLUSH_EVERY_S, _FLUSH_COST_FACTOR * (self._last_flush - started)
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data: dict[str, Any] = getattr(report, "releasegate", None) or {}
        node = getattr(report, "node", None)
        worker = getattr(getattr(node, "gateway", None), "id", None)
        stage = data.get("stage")
        if stage in STAGES and stage not in self.builder.run.stages_requested:
            self.builder.run.stages_requested.append(stage)
        message = data.get("message")
        if message is None:  # a report xdist made up for a crashed worker carries no data
            message = self.run.redactor.redact(" ".join(str(report.longrepr or "").split()))
        self.builder.add(
            Phase(
                nodeid=report.nodeid,
                when=report.when or "???",
                outcome=report.outcome,
                duration=report.duration,
                stage=stage,
                blocking=data.get("blocking", True),
                cause=data.get("cause"),
                message=message[:600],
                measurements=data.get("measurements", []),
                artefacts=data.get("artefacts", []),
                worker=worker,
                title=data.get("title"),
            )
        )
        if time.monotonic() - self._last_flush >= self._flush_interval:
            self._write()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput"):
            self.builder.run.collected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.builder.run.collected = max(self.builder.run.collected or 0, len(ids))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        run = self.builder.run
        run.finished_at = now()
        run.pytest_exit_status = int(exitstatus)
        # An internal error cuts the run short too: a Ctrl-C that lands inside a hook wrapper
        # (Playwright's, say) reaches pytest as an INTERNALERROR, not as an interruption
        interrupted = self._interrupt_seen or exitstatus in (
            pytest.ExitCode.INTERRUPTED,
            pytest.ExitCode.INTERNAL_ERROR,
        )
        run.status = "interrupted" if interrupted else "finished"
        stopped_early = bool(session.shouldstop) or bool(session.shouldfail)
        checks = self.builder.checks()
        crashed = any(c.cause == CAUSE_CRASH for c in checks)
        run.complete = not (interrupted or stopped_early or crashed) and exitstatus in (0, 1)
        if any(c.cause == CAUSE_UNREACHABLE for c in checks):
            run.reachability = gather(
                env=self.run.env,
                target_url=self.run.base_url,
                run_dir=self.run.run_dir,
                reports_dir=self.run.reports_dir,
                redactor=self.run.redactor,
            )
        self._write()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._restore_sigint()
        # last: junit.xml and report.html are written in pytest_sessionfinish, Allure as it goes
        scrub_tree(self.run.run_dir, self.run.redactor)

    # -- what people read ---------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        decision = decide(self.builder.results())
        write = terminalreporter.write_line
        terminalreporter.section("releasegate", sep="-")
        write(f"verdict: {decision.summary()}  env={self.run.env.name}  run={self.run.run_id}")
        for reason in decision.reasons[:20]:
            write(f"  {reason.readable()}")
        if len(decision.reasons) > 20:
            write(f"  ... and {len(decision.reasons) - 20} more (releasegate decide)")
        for warning in decision.warnings:
            write(f"  warning: {warning.readable()}")
        write(f"evidence: {self.run.run_dir}")

    def _write_allure_metadata(self) -> None:
        directory = getattr(self.config.option, "allure_report_dir", None)
        if not directory:
            return
        target = Path(directory).absolute()  # as allure-pytest resolves it
        target.mkdir(parents=True, exist_ok=True)
        lines = [f"{key}={value}" for key, value in self._metadata().items()]
        write_atomically(target / "environment.properties", "\n".join(lines) + "\n")
        write_atomically(target / "categories.json", json.dumps(_ALLURE_CATEGORIES, indent=2))

    def _metadata(self) -> dict[str, str]:
        run = self.run
        return {
            "releasegate.environment": run.env.name,
            "releasegate.target": run.redactor.redact(run.base_url),
            "releasegate.read_only": str(run.env.read_only).lower(),
            "releasegate.release_version": run.release_version or "(not given)",
            "releasegate.run_id": run.run_id,
            "releasegate.version": __version__,
        }

    def _add_html_metadata(self) -> None:
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pytest-html not installed: nothing to add to
            return
        metadata = self.config.stash.get(metadata_key, None)
        if metadata is None:
            return
        for key, value in self._metadata().items():
            metadata[key] = value
        for key in list(metadata):
            if isinstance(metadata[key], str):
                metadata[key] = self.run.redactor.redact(metadata[key])

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"releasegate: {self.run.env.name} — run {self.run.run_id}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, "<th>What it checks</th>")
        cells.insert(3, "<th>Measured (threshold)</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        data = getattr(report, "releasegate", None) or {}
        inconclusive = (CAUSE_INCONCLUSIVE, CAUSE_UNREACHABLE, CAUSE_STALE)
        if data.get("cause") in inconclusive and report.when == "call":
            # pytest-html calls every call-phase exception "Failed"; this one could not measure
            cells[:] = [c.replace(">Failed<", ">Error<", 1) for c in cells]
        shown = [_format_measurement(m) for m in data.get("measurements", [])]
        cells.insert(2, f"<td>{html.escape(data.get('title') or '')}</td>")
        cells.insert(3, f"<td>{'<br>'.join(html.escape(s) for s in shown)}</td>")


def _format_measurement(m: dict[str, Any]) -> str:
    value = m.get("value")
    text = (
        f"{m.get('name')}: {value:.1f}" if isinstance(value, float) else f"{m.get('name')}: {value}"
    )
    if m.get("unit"):
        text += f" {m['unit']}"
    if m.get("threshold") is not None:
        text += f" ({m.get('comparison') or 'vs'} {m['threshold']})"
    return text
