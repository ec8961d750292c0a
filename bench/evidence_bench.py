"""How long the evidence path takes as runs grow: results.json rewrite and decide().

The plugin rewrites results.json at most every 0.5 s while tests run; this shows what one rewrite
costs for a run of N checks, and what deciding costs, so that interval can be judged. Figures are
medians of repeated runs on this machine; compare the rows with each other, not with another
machine.

    .venv/bin/python bench/evidence_bench.py
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from releasegate.evidence.decide import decide
from releasegate.evidence.results import Phase, ResultsBuilder, RunInfo, write_atomically

SIZES = (100, 1_000, 5_000)
REPEATS = 5


def builder(n: int) -> ResultsBuilder:
    run = RunInfo(
        id="bench",
        environment="bench",
        target_url="http://127.0.0.1:1",
        started_at=datetime.now(UTC),
        tool_version="0",
        stages_requested=["smoke"],
    )
    made = ResultsBuilder(run)
    for i in range(n):
        outcome = "failed" if i % 97 == 0 else "passed"
        for when in ("setup", "call", "teardown"):
            made.add(
                Phase(
                    f"suites/smoke/test_x.py::test_{i}",
                    when,
                    outcome if when == "call" else "passed",
                    0.01,
                    "smoke",
                    True,
                    "product" if outcome == "failed" else None,
                    "",
                    [
                        {
                            "name": "latency",
                            "value": 12.5,
                            "unit": "ms",
                            "threshold": 500,
                            "comparison": "<=",
                        }
                    ]
                    if when == "call"
                    else [],
                )
            )
    return made


def fold_and_serialise(made: ResultsBuilder) -> str:
    """What the plugin does for each rewrite: fold the phases into checks, then to JSON. After
    the first call the folded checks are cached, as they are while a run goes on."""
    return made.results().to_json()


def first_fold(n: int) -> float:
    """A cold fold of n tests (every test new since the last rewrite)."""
    made = builder(n)
    started = time.perf_counter()
    made.results().to_json()
    return (time.perf_counter() - started) * 1000


def median_ms(action: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    print(
        f"{'checks':>8} {'cold fold ms':>13} {'rewrite ms':>11} {'atomic write ms':>16}"
        f" {'decide ms':>10} {'file KiB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "results.json"
        for n in SIZES:
            made = builder(n)
            text = made.results().to_json()
            serialise = median_ms(functools.partial(fold_and_serialise, made))
            write = median_ms(functools.partial(write_atomically, target, text))
            deciding = median_ms(functools.partial(decide, made.results()))
            print(
                f"{n:>8} {first_fold(n):>13.1f} {serialise:>11.1f} {write:>16.1f}"
                f" {deciding:>10.1f} {len(text) / 1024:>9.0f}"
            )


if __name__ == "__main__":
    main()
