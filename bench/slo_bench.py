"""What the SLO gate's synthetic sampler costs and how accurate it is: its throughput against a
bare httpx loop sending the same requests in the same run (one and four threads, alternately),
and the latency it measures against a delay injected into the reference service (error at p50
and p95). Target: the reference service on loopback, its rate limit off.

    .venv/bin/python bench/slo_bench.py [--requests N] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import httpx

from releasegate.slo.statistics import nearest_rank
from releasegate.slo.synthetic import SamplePlan, Target, take_samples
from releasegate.target.process import ReferenceServiceProcess

TARGETS = [Target("GET", "/api/version"), Target("GET", "/")]


def sampler_rps(url: str, requests: int, threads: int) -> float:
    plan = SamplePlan(TARGETS, requests, threads, rate_per_s=1e6, duration_s=120)
    started = time.perf_counter()
    samples = take_samples(url, plan)
    elapsed = time.perf_counter() - started
    assert len(samples.samples) == requests
    return requests / elapsed


def bare_rps(url: str, requests: int, threads: int) -> float:
    """The same requests, round robin, from plain httpx clients: no pacing, no sample kept."""
    counter = iter(range(requests))
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url=url) as client:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                target = TARGETS[index % len(TARGETS)]
                client.request(target.method, target.path)

    started = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return requests / (time.perf_counter() - started)


def throughput(requests: int, repeats: int) -> None:
    print(f"requests/s, {requests} requests, median of {repeats} (alternating order)")
    with ReferenceServiceProcess(rate_limit="0") as service:
        for threads in (1, 4):
            ours, bare = [], []
            for index in range(repeats):
                runs = [(ours, sampler_rps), (bare, bare_rps)]
                for into, how in runs if index % 2 == 0 else runs[::-1]:
                    into.append(how(service.base_url, requests, threads))
            o, b = statistics.median(ours), statistics.median(bare)
            print(
                f"  {threads} thread(s)  sampler {o:7.0f}  bare httpx {b:7.0f}  ratio {o / b:5.3f}"
            )


def accuracy(delay_ms: int, requests: int) -> None:
    with ReferenceServiceProcess(faults=[f"latency={delay_ms}ms"], rate_limit="0") as service:
        plan = SamplePlan([Target("GET", "/api/version")], requests, 4, 200, 60)
        latencies = take_samples(service.base_url, plan).latencies()
    p50, p95 = nearest_rank(latencies, 0.5) or 0.0, nearest_rank(latencies, 0.95) or 0.0
    print(
        f"latency={delay_ms}ms injected, {len(latencies)} samples: p50 {p50:.1f} ms"
        f" (+{p50 - delay_ms:.1f}), p95 {p95:.1f} ms (+{p95 - delay_ms:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    throughput(args.requests, args.repeats)
    for delay in (50, 200):
        accuracy(delay, 300)


if __name__ == "__main__":
    main()
