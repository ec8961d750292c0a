"""What the browser gate costs: browser start-up, one page visit (load, timings, screenshot,
trace and HAR recorded), and what `-n 2` saves on a gate of 6 page visits (4 pages, 2 of them
also on a phone).

Start-up and visit figures are medians of repeated runs in this process; the `-n` comparison
runs the page checks of 6 pages as real gate runs (pytest subprocesses), serial and with two
workers, alternately, and reports the median wall time of each and their ratio. Compare the
rows with each other, not with another machine. Everything targets a reference service on
loopback.

    .venv/bin/python bench/browser_bench.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from releasegate.browser.locate import locate_chromium
from releasegate.browser.visit import PageTarget, visit_page
from releasegate.target.process import ReferenceServiceProcess

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("/", "/login", "/dashboard", "/tickets")
# 4 pages, 2 of them on a phone too: 6 page visits
MOBILE = ("/dashboard", "/tickets")
SIX_PAGES = """
[target]
base_url = "{url}"
read_only = true

{pages}
"""


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.0f} ms"


def startup_and_visits(base_url: str, repeats: int) -> None:
    executable = locate_chromium()
    starts, launches, visits = [], [], []
    for _ in range(repeats):
        began = time.perf_counter()
        with sync_playwright() as playwright:
            started = time.perf_counter()
            browser = playwright.chromium.launch(executable_path=str(executable.path))
            launched = time.perf_counter()
            for path in PAGES:
                target = PageTarget(check_id=path, url=base_url + path, expect_text=None)
                before = time.perf_counter()
                visit = visit_page(browser, {"base_url": base_url}, target, origin_url=base_url)
                visits.append(time.perf_counter() - before)
                if visit.recording is not None:
                    visit.recording.discard()
            browser.close()
        starts.append(started - began)
        launches.append(launched - started)
    print(f"browser: {executable.describe()}")
    print(f"Playwright driver start        {_median_ms(starts)}")
    print(f"Chromium launch (headless)     {_median_ms(launches)}")
    print(f"one page visit, recorded       {_median_ms(visits)}   ({len(visits)} visits)")


def gate_run(envs: Path, reports: Path, workers: int) -> float:
    argv = [sys.executable, "-m", "pytest", "suites", "-m", "smoke", "-k", "browser_pages"]
    argv += ["--env", "bench", f"--reports-dir={reports}", "-q", "-p", "no:cacheprovider"]
    if workers:
        argv += ["-n", str(workers)]
    began = time.perf_counter()
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={"RELEASEGATE_ENV_DIR": str(envs), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"gate run failed (exit {done.returncode}):\n{done.stdout[-2000:]}")
    return elapsed


def parallel_saving(base_url: str, repeats: int) -> None:
    pages = "\n".join(
        f'[[pages]]\npath = "{path}"\nmobile = {"true" if path in MOBILE else "false"}\n'
        for path in PAGES
    )
    with tempfile.TemporaryDirectory() as folder:
        envs = Path(folder) / "environments"
        envs.mkdir()
        (envs / "bench.toml").write_text(SIX_PAGES.format(url=base_url, pages=pages))
        serial, parallel = [], []
        for index in range(repeats):
            serial.append(gate_run(envs, Path(folder) / f"r{index}s", 0))
            parallel.append(gate_run(envs, Path(folder) / f"r{index}p", 2))
    s, p = statistics.median(serial), statistics.median(parallel)
    print(f"6 pages, serial (wall)         {s * 1000:8.0f} ms")
    print(f"6 pages, -n 2 (wall)           {p * 1000:8.0f} ms")
    verdict = f"-n 2 saves {1 - p / s:.0%}" if p < s else f"-n 2 costs {p / s - 1:.0%} more"
    print(f"-n 2 / serial                  {p / s:8.2f}   ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with ReferenceServiceProcess() as service:
        startup_and_visits(service.base_url, args.repeats)
        parallel_saving(service.base_url, args.repeats)


if __name__ == "__main__":
    main()
