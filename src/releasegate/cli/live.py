"""Running pytest for `releasegate run`: a live progress line on a terminal, plain output in CI.

On a terminal pytest's own output goes to `pytest-output.txt` in the run folder and a rich
status line shows the checks as results.json records them (the plugin rewrites it every 0.5 s);
in CI, or when output is not a terminal, pytest's output is streamed as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

OUTPUT_FILE = "pytest-output.txt"
_POLL_S = 0.3


def interactive(console: Console) -> bool:
    return console.is_terminal and not os.environ.get("CI")


def _progress_text(results: Path) -> str:
    try:
        checks = json.loads(results.read_text(encoding="utf-8"))["checks"]
    except (OSError, ValueError, KeyError, TypeError):
        return "starting pytest"
    counts = Counter(c.get("outcome") for c in checks)
    parts = [
        f"{counts[o]} {label}"
        for o, label in (
            ("passed", "passed"),
            ("failed", "failed"),
            ("error", "could not measure"),
            ("skipped", "skipped"),
        )
        if counts[o]
    ]
    return f"{len(checks)} checks done" + (f": {', '.join(parts)}" if parts else "")


def run_pytest(argv: list[str], run_dir: Path, console: Console | None = None) -> int:
    """Run pytest; show progress on a terminal, stream plainly elsewhere. Returns its exit code."""
    console = console or Console()
    if not interactive(console):
        return subprocess.run(argv, check=False).returncode
    run_dir.mkdir(parents=True, exist_ok=True)
    output = run_dir / OUTPUT_FILE
    with (
        output.open("w", encoding="utf-8") as log,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("starting pytest", total=None)
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                progress.update(task, description=_progress_text(run_dir / "results.json"))
                time.sleep(_POLL_S)
        except KeyboardInterrupt:
            process.wait()  # pytest got the same Ctrl-C and writes its evidence as interrupted
            raise
    console.print(f"pytest output: {output}")
    return process.returncode
