"""What the load stage costs against Locust on its own: requests per second driven through
`releasegate` (plan, guard, process tree) and by bare `locust` with the same locustfile, profile
and numbers, in the same run, alternately; with one process and with two workers. Then the peak
memory of the whole process tree at 1000 concurrent users (the `thousand-users` profile).

Target: the reference service on loopback, its rate limit off. Compare the rows with each other
(ratios), not with another machine.

    .venv/bin/python bench/load_bench.py [--repeats N] [--seconds S] [--skip-memory]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from releasegate.config import load_environment
from releasegate.load.runner import GUARD, PROFILES_DIR, plan_load, run_load
from releasegate.load.stats import read_stats
from releasegate.target.process import ReferenceServiceProcess

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtests" / "reference.py"

ENV = """
[target]
base_url = "{url}"
read_only = false
headers = {{ Authorization = "Bearer local-demo-token" }}

[load]
profile = "{profile}"
users = {users}
spawn_rate = {spawn_rate}
duration = "{seconds}s"
wait_min = "{wait_min}s"
wait_max = "{wait_max}s"
workers = {workers}
max_users = 1000
max_duration = "10m"
"""


def _plan(folder: Path, url: str, **numbers: object):  # type: ignore[no-untyped-def]
    numbers.setdefault("spawn_rate", min(100, int(str(numbers["users"]))))
    env_dir = folder / "environments"
    env_dir.mkdir(parents=True, exist_ok=True)
    (env_dir / "bench.toml").write_text(ENV.format(url=url, **numbers))
    env = load_environment("bench", env_dir)
    return plan_load(env, url, folder / "out", ROOT)


def through_releasegate(folder: Path, url: str, **numbers: object) -> float:
    plan = _plan(folder, url, **numbers)
    run_load(plan)
    return read_stats(plan.stats_json).total.rps or 0.0


def bare_locust(folder: Path, url: str, **numbers: object) -> float:
    """The same locustfile, shape and numbers, started as `locust` is usually started: the guard
    left out, `--processes N` for workers, no process-group handling."""
    plan = _plan(folder, url, **numbers)
    out = folder / "bare"
    out.mkdir(parents=True, exist_ok=True)
    shape = PROFILES_DIR / f"{numbers['profile']}.py".replace("-", "_")
    argv = [sys.executable, "-m", "locust", "-f", f"{LOCUSTFILE},{shape}", "--headless"]
    argv += ["--host", url, "--json-file", str(out / "bare"), "--only-summary"]
    if numbers["workers"]:
        argv += ["--processes", str(numbers["workers"])]
    subprocess.run(
        argv,
        env=plan.environ,
        capture_output=True,
        timeout=float(str(numbers["seconds"])) + 60,
        check=False,
    )
    return read_stats(out / "bare.json").total.rps or 0.0


def rps_rows(url: str, repeats: int, seconds: int) -> None:
    print(
        f"requests/s, profile smoke-load, 20 users, no think time, {seconds} s, median of {repeats}"
    )
    for workers in (0, 2):
        ours, bare = [], []
        for index in range(repeats):
            numbers = {
                "profile": "smoke-load",
                "users": 20,
                "seconds": seconds,
                "wait_min": 0,
                "wait_max": 0,
                "workers": workers,
            }
            with tempfile.TemporaryDirectory() as folder:
                # alternate which goes first, so neither always meets a warmer service
                runs = [(ours, through_releasegate), (bare, bare_locust)]
                for into, how in runs if index % 2 == 0 else runs[::-1]:
                    into.append(how(Path(folder) / f"{how.__name__}{index}", url, **numbers))
        o, b = statistics.median(ours), statistics.median(bare)
        label = "one process" if not workers else f"{workers} workers"
        print(f"  {label:12}  releasegate {o:8.0f}   bare locust {b:8.0f}   ratio {o / b:5.3f}")


def _tree_rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            parent = psutil.Process(pid)
            for process in [parent, *parent.children(recursive=True)]:
                total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def peak_memory(url: str, seconds: int) -> None:
    """thousand-users with realistic think time (5-15 s), sampled every 0.2 s."""
    with tempfile.TemporaryDirectory() as folder:
        numbers = {
            "profile": "thousand-users",
            "users": 1000,
            "seconds": seconds,
            "wait_min": 5,
            "wait_max": 15,
            "workers": 0,
        }
        plan = _plan(Path(folder), url, **numbers)
        plan.out_dir.mkdir(parents=True)
        process = subprocess.Popen(
            plan.master, env=plan.environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss([process.pid]))
            time.sleep(0.2)
        stats = read_stats(plan.stats_json)
    print(
        f"thousand-users, {seconds} s (1000 users from {0.7 * seconds:.0f} s on), one process:"
        f" peak RSS of the Locust tree {peak / 2**20:.0f} MiB; {stats.total.requests} requests,"
        f" {stats.total.failures} failed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    assert GUARD.is_file()
    with ReferenceServiceProcess(rate_limit="0") as service:
        rps_rows(service.base_url, args.repeats, args.seconds)
        if not args.skip_memory:
            peak_memory(service.base_url, max(30, args.seconds))


if __name__ == "__main__":
    main()
