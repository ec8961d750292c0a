"""Time to a verdict: the SLO gate's synthetic sampling to a fixed count against sequential
sampling (stop once every objective is decided), side by side in one run, alternately, against
the reference service in four states. Prints, per state and method, the median samples and
seconds to a verdict and the verdicts seen.

Objectives: p95 <= 100 ms, error ratio <= 1 %, availability >= 99 %. Budget: 1,000 requests,
150 a second at most, 30 s, 4 threads growing to 32. States: healthy; p95 at twice the
objective (200 ms answers); 5 % errors; at the p95 threshold (answers spread evenly over
0..105 ms, so about 5 % take longer than 100 ms with the service's own time).

    .venv/bin/python bench/decide_bench.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from releasegate.outcome import Judgement
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sources import SyntheticSamples
from releasegate.slo.stopping import Decider
from releasegate.slo.synthetic import SamplePlan, Target, take_samples
from releasegate.target.process import DEFAULT_API_TOKEN, ReferenceServiceProcess

CONFIDENCE = 0.95
OBJECTIVES = [
    Objective(Indicator.LATENCY, 100.0, 0.95),
    Objective(Indicator.ERROR_RATIO, 0.01),
    Objective(Indicator.AVAILABILITY, 0.99),
]
STATES = {
    "healthy": [],
    "p95 at 2x the objective": ["latency=200ms"],
    "5 % errors": ["error-ratio=0.05"],
    "at the p95 threshold": ["latency=0ms..105ms"],
}
PLAN = SamplePlan(
    [Target("GET", "/api/tickets"), Target("GET", "/api/version")],
    requests=1000,
    concurrency=4,
    rate_per_s=150,
    duration_s=30,
    headers={"Authorization": f"Bearer {DEFAULT_API_TOKEN}"},
    max_concurrency=32,
    min_requests=20,
)
WORDS = {Judgement.PASS: "GO", Judgement.FAIL: "ROLLBACK", Judgement.INCONCLUSIVE: "HOLD"}


def verdict(judgements: list[Judgement]) -> str:
    if Judgement.FAIL in judgements:
        return WORDS[Judgement.FAIL]
    if Judgement.INCONCLUSIVE in judgements:
        return WORDS[Judgement.INCONCLUSIVE]
    return WORDS[Judgement.PASS]


def one_run(url: str, sequential: bool) -> tuple[int, float, str, int]:
    decider = Decider(OBJECTIVES, CONFIDENCE) if sequential else None
    started = time.perf_counter()
    samples = take_samples(url, PLAN, decider=decider)
    elapsed = time.perf_counter() - started
    source = SyntheticSamples(samples, CONFIDENCE, sequential=sequential)
    judgements = [judge(source.sli(o), o).judgement for o in OBJECTIVES]
    return len(samples.samples), elapsed, verdict(judgements), samples.threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'state':<26} {'method':<11} {'samples':>8} {'seconds':>8} {'threads':>8}  verdicts")
    for state, faults in STATES.items():
        with ReferenceServiceProcess(faults=faults, rate_limit="0", seed=7) as service:
            runs: dict[bool, list[tuple[int, float, str, int]]] = {False: [], True: []}
            for _ in range(args.repeats):
                for sequential in (False, True):  # alternately: drift hits both alike
                    runs[sequential].append(one_run(service.base_url, sequential))
        for sequential, found in runs.items():
            seen = Counter(v for _, _, v, _ in found)
            print(
                f"{state:<26} {'sequential' if sequential else 'fixed':<11}"
                f" {statistics.median(n for n, _, _, _ in found):>8.0f}"
                f" {statistics.median(s for _, s, _, _ in found):>8.2f}"
                f" {max(t for _, _, _, t in found):>8}"
                f"  {', '.join(f'{k} x{v}' for k, v in sorted(seen.items()))}"
            )


if __name__ == "__main__":
    main()
