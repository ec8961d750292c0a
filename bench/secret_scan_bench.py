"""The pre-deploy gate's committed-secrets scan of this repository, cold (an empty cache: every
file read by detect-secrets) against warm (the cache of the previous scan: only changed files
read), alternately in one run, with the figures and the ratio.

    .venv/bin/python bench/secret_scan_bench.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from releasegate.checks.secret_scan import scan_tree

ROOT = Path(__file__).resolve().parents[1]
# what environments/local.toml scans
EXCLUDE = ["tests", "docs", "reports", "bench"]


def timed(cache_dir: Path) -> tuple[float, int, int]:
    started = time.perf_counter()
    result = scan_tree(
        ROOT, baseline=ROOT / ".secrets.baseline", exclude=EXCLUDE, cache_dir=cache_dir
    )
    return time.perf_counter() - started, result.files_scanned, result.files_rescanned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cold: list[float] = []
    warm: list[float] = []
    files = rescanned = 0
    with tempfile.TemporaryDirectory() as scratch:
        for i in range(args.repeats):
            cache = Path(scratch) / str(i)
            seconds, files, _ = timed(cache)
            cold.append(seconds)
            seconds, _, rescanned = timed(cache)
            warm.append(seconds)
    print(f"files: {files}; rescanned when warm: {rescanned}")
    print(f"cold: median {statistics.median(cold):.3f} s  ({', '.join(f'{s:.3f}' for s in cold)})")
    print(f"warm: median {statistics.median(warm):.3f} s  ({', '.join(f'{s:.3f}' for s in warm)})")
    print(f"warm / cold: {statistics.median(warm) / statistics.median(cold):.3f}")


if __name__ == "__main__":
    main()
