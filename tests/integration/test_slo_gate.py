"""The SLO gate against the real reference service: its own samples (synthetic) and the
service's metrics in a real Prometheus. Healthy passes; latency over the objective fails with
the value and its interval; an error ratio fails; a latency regression under the absolute
objective fails against the baseline; too few samples and a stopped Prometheus are HOLD;
requests that time out count as slow; a target refusing every request is unreachable; another
target's baseline is no baseline."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from releasegate.evidence.decide import decide
from releasegate.evidence.results import read_results
from releasegate.outcome import Verdict
from releasegate.slo.synthetic import (
    BASELINE_FILE,
    SamplePlan,
    Target,
    read_samples,
    take_samples,
)
from releasegate.target.process import ReferenceServiceProcess
from releasegate.target.prometheus_server import PROMETHEUS, PrometheusServer
from tests.integration.conftest import (
    GateRun,
    RunGate,
    StartService,
    releasegate_in_repo,
    short_id,
    write_env,
)

TOKEN = "local-demo-token"
ENV = """
[target]
base_url = "{url}"
read_only = true
{target_extra}
headers = {{ Authorization = "Bearer {token}" }}

[[endpoints]]
path = "/api/tickets"

[[endpoints]]
path = "/api/version"

[slo]
latency_p50_ms = {p50}
latency_p95_ms = 500
error_ratio_max = "1%"
availability_min = "99%"
rate_limited_max = "1%"
{extra}

[slo.synthetic]
requests = {requests}
concurrency = {concurrency}
rate = 150
duration = "30s"
stopping = "{stopping}"
"""

PROMETHEUS_TABLE = """
[slo.prometheus]
url = "{url}"
window = "1m"
latency_query = 'histogram_quantile({{quantile}}, sum by (le) (rate(http_request_duration_seconds_bucket{{route!="/metrics"}}[{{window}}])))'
requests_query = 'sum(increase(http_requests_total{{route!="/metrics"}}[{{window}}]))'
error_ratio_query = '(sum(rate(http_requests_total{{route!="/metrics",status=~"5.."}}[{{window}}])) or vector(0)) / sum(rate(http_requests_total{{route!="/metrics"}}[{{window}}]))'
rate_limited_query = '(sum(rate(http_rate_limited_total[{{window}}])) or vector(0)) / sum(rate(http_requests_total{{route!="/metrics"}}[{{window}}]))'
burn_windows = [
  {{ long = "1m", short = "30s", factor = 14.4 }},
  {{ long = "2m", short = "30s", factor = 3 }},
]
"""


def run_slo(
    run_gate: RunGate,
    tmp_path: Path,
    url: str,
    *args: str,
    requests: int = 450,
    concurrency: int = 4,
    extra: str = "",
    target_extra: str = "",
    reports: Path | None = None,
    stopping: str = "sequential",
    p50: int = 200,
    marker: str = "slo",
) -> GateRun:
    envs = tmp_path / "environments"
    text = ENV.format(
        url=url,
        token=TOKEN,
        extra=extra,
        target_extra=target_extra,
        requests=requests,
        concurrency=concurrency,
        stopping=stopping,
        p50=p50,
    )
    write_env(envs, "staging", text)
    return run_gate(
        "--env", "staging", *args, marker=marker, env_vars={"RELEASEGATE_ENV_DIR": str(envs)}
    )


def synthetic_outcomes(run: GateRun) -> dict[str, str]:
    """The checks of the synthetic samples: the objectives from them, and the baseline's."""
    return {
        k: v
        for k, v in run.outcomes().items()
        if k.endswith("-synthetic]") or k.startswith("test_regression.py")
    }


# the checks of the synthetic samples, the objectives they decide, the comparison with the baseline
SYNTHETIC = "synthetic or regressed or is_met"
# the latency percentiles of the synthetic samples
PERCENTILES = "p50-synthetic or p95-synthetic or p99-synthetic"


def test_a_healthy_service_meets_every_objective(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """A budget of 450 samples: sampling stops once the percentiles' sequences are under the
    objectives and enough error-free samples show an error ratio under 1 %: GO. Every sample
    is kept in samples.json."""
    run = run_slo(run_gate, tmp_path, healthy_service.base_url, "-k", SYNTHETIC)

    outcomes = synthetic_outcomes(run)
    assert outcomes["test_objectives.py::test_objective[p95-synthetic]"] == "passed", run.output
    assert outcomes["test_objectives.py::test_objective[error_ratio-synthetic]"] == "passed"
    assert outcomes["test_objectives.py::test_objective[availability-synthetic]"] == "passed"
    assert (
        outcomes["test_regression.py::test_latency_has_not_regressed_against_the_baseline"]
        == "skipped"
    )
    p95 = {m.name: m for m in run.check("test_objective[p95-synthetic]").measurements}
    samples = read_samples(run.run_dir / "samples.json")
    assert samples.stopped_by == "decided"
    assert p95["p95"].samples == len(samples.samples) < 450
    assert p95["p95"].source == "synthetic"
    assert p95["p95 interval low"].value is not None
    assert (run.run_dir / "samples.json").stat().st_size > 10_000
    assert decide(run.results).verdict is Verdict.GO


def test_latency_over_the_objective_fails_with_value_and_interval(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """latency=900ms against a 500 ms p95: failed long before the budget of 100 is spent,
    naming the value, interval and samples."""
    service = start_service("latency=900ms")

    run = run_slo(
        run_gate, tmp_path, service.base_url, "-k", SYNTHETIC, requests=100, concurrency=10
    )

    check = run.check("test_objective[p95-synthetic]")
    assert check.outcome == "failed", run.output
    found = re.search(
        r"p95 latency (\d+\.\d) ms \(95% anytime-valid interval (\d+\.\d)\.\.(\S+) ms,"
        r" (\d+) samples\) exceeds 500 ms",
        check.message,
    )
    assert found, check.message
    assert 900 <= float(found.group(2)) <= float(found.group(1))
    assert int(found.group(4)) <= 50, "stopped early"
    assert read_samples(run.run_dir / "samples.json").stopped_by == "decided"
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_a_slow_but_healthy_service_gets_enough_samples_in_time(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """300 ms answers: 4 threads send about 13 a second, under 400 in the 30 s allowed, too
    few to show 99 % availability (405 clean samples under sequential sampling). Threads join
    so the budget fits, and sampling stops once the objectives are shown: GO, not HOLD."""
    service = start_service("latency=300ms")

    run = run_slo(run_gate, tmp_path, service.base_url, "-k", SYNTHETIC, requests=1000, p50=400)

    assert decide(run.results).verdict is Verdict.GO, run.output
    samples = read_samples(run.run_dir / "samples.json")
    assert samples.stopped_by == "decided"
    assert samples.threads > 4
    assert len(samples.samples) >= 405
    availability = run.check("test_objective[availability-synthetic]")
    assert availability.outcome == "passed"
    recorded = {m.name: m.value for m in availability.measurements}
    assert (recorded["threads"], recorded["stopped by"]) == (samples.threads, "decided")


def test_an_error_ratio_of_five_percent_fails(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    service = start_service("error-ratio=0.05")

    run = run_slo(run_gate, tmp_path, service.base_url, "-k", SYNTHETIC)

    check = run.check("test_objective[error_ratio-synthetic]")
    assert check.outcome == "failed", run.output
    assert "exceeds 1.000%" in check.message
    assert "95% interval" in check.message
    assert run.check("test_objective[availability-synthetic]").outcome == "failed"


def test_too_few_samples_are_inconclusive_and_say_how_many_would_do(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """A budget of 20 samples: the p95's sequence has no upper bound yet, nor can 20 clean
    samples show an error ratio under 1 %; each says how many clean samples would."""
    run = run_slo(run_gate, tmp_path, healthy_service.base_url, "-k", SYNTHETIC, requests=20)

    p95 = run.check("test_objective[p95-synthetic]")
    assert p95.outcome == "error", run.output
    assert "20 samples) straddles 500 ms" in p95.message
    assert re.search(r"\((\d+) with none over 500 ms would show it\)", p95.message), p95.message
    errors = run.check("test_objective[error_ratio-synthetic]")
    assert errors.outcome == "error"
    found = re.search(r"(\d+) event-free samples would show it", errors.message)
    assert found, errors.message
    assert 381 < int(found.group(1)) < 600  # more than a fixed-n Wilson interval needs
    assert run.check("test_objective[p50-synthetic]").outcome == "passed"
    assert decide(run.results).verdict is Verdict.HOLD


def test_too_few_fixed_samples_say_how_many_an_interval_needs(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """`stopping = "fixed"`, 20 samples: no 95 % interval for a p95 (72 needed), nor an error
    ratio under 1 % (381 would show it)."""
    run = run_slo(
        run_gate,
        tmp_path,
        healthy_service.base_url,
        "-k",
        SYNTHETIC,
        requests=20,
        stopping="fixed",
    )

    p95 = run.check("test_objective[p95-synthetic]")
    assert p95.outcome == "error", run.output
    assert "20 samples are too few for a 95% interval; 72 needed" in p95.message
    errors = run.check("test_objective[error_ratio-synthetic]")
    assert errors.outcome == "error"
    assert "381 event-free samples would show it" in errors.message
    assert decide(run.results).verdict is Verdict.HOLD


SAMPLED = [Target("GET", "/api/tickets"), Target("GET", "/api/version")]


def take_baseline(url: str, reports: Path, name: str = "before") -> Path:
    plan = SamplePlan(SAMPLED, 200, 4, 150, 30, headers={"Authorization": f"Bearer {TOKEN}"})
    path = reports / "baselines" / name / BASELINE_FILE
    take_samples(url, plan, environment="staging").write(path)
    return path


def test_a_tripled_latency_under_the_objective_fails_against_the_baseline(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """Baseline at 20 ms, after the deploy 60 ms: far under the 500 ms objective, but the
    shift's interval is all above the minimum increase (20 ms: a tenth of the 200 ms p50
    objective): failed. The same service, its faults switched: the baseline is of this URL."""
    service = start_service("latency=20ms")
    take_baseline(service.base_url, tmp_path / "reports")
    service.set_faults(["latency=60ms"])

    run = run_slo(run_gate, tmp_path, service.base_url, "-k", SYNTHETIC, requests=200)

    check = run.check("test_latency_has_not_regressed_against_the_baseline")
    assert check.outcome == "failed", run.output
    found = re.search(
        r"GET /api/tickets is slower than before the deploy: shift \+(\d+\.\d) ms \(98% interval"
        r" \+(\d+\.\d)\.\.\+(\d+\.\d) ms, Hodges-Lehmann\) against a minimum increase of 20\.0 ms",
        check.message,
    )
    assert found, check.message
    assert 30 < float(found.group(2)) <= float(found.group(1)) <= float(found.group(3)) < 50
    assert run.check("test_objective[p95-synthetic]").outcome == "passed"
    assert decide(run.results).verdict is Verdict.ROLLBACK


def test_another_targets_baseline_is_stale_not_a_regression(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """The demo's case: a slow instance on another port left the newest baseline.json; the
    gate against this (fast, healthy) target does not compare with it. Required: HOLD, saying
    evidence-stale and naming the file and both targets."""
    demo = start_service("latency=80ms")
    path = take_baseline(demo.base_url, tmp_path / "reports", "demo")
    service = start_service()

    run = run_slo(
        run_gate,
        tmp_path,
        service.base_url,
        "-k",
        "regressed",
        requests=100,
        extra="[slo.baseline]\nrequired = true",
    )

    check = run.check("test_latency_has_not_regressed_against_the_baseline")
    assert check.outcome == "error", run.output
    assert check.message.removeprefix("EvidenceStale: ").startswith(
        f"evidence-stale: baseline {path} was taken of {demo.base_url}, not of this target"
        f" {service.base_url}"
    ), check.message
    decision = decide(run.results)
    assert decision.verdict is Verdict.HOLD
    assert [r.rule for r in decision.reasons] == ["evidence-stale"]


def test_requests_that_time_out_count_as_slow_not_as_missing(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """latency=100ms..900ms with a 0.5 s timeout: about half the requests time out. They were
    left out of the percentiles (a p95 of ~500 ms from the answers that came); now each counts
    as at least 500 ms and the p95 fails a 500 ms objective, saying how many."""
    service = start_service("latency=100ms..900ms")

    run = run_slo(
        run_gate,
        tmp_path,
        service.base_url,
        "-k",
        PERCENTILES,
        requests=100,
        concurrency=16,
        target_extra='timeout = "0.5s"',
    )

    check = run.check("test_objective[p95-synthetic]")
    assert check.outcome == "failed", run.output
    found = re.search(
        r"p95 latency >=(\d+)\.\d ms .*, (\d+) samples, (\d+) without an answer", check.message
    )
    assert found, check.message
    # the 0.5 s timeout, or the slowest answer above it (a loaded machine adds to the 900 ms)
    assert 500 <= int(found.group(1)) < 2000
    samples, unanswered = int(found.group(2)), int(found.group(3))
    assert unanswered >= samples / 4  # about half time out; sampling stopped once it failed


def test_a_target_refusing_every_request_is_unreachable(run_gate: RunGate, tmp_path: Path) -> None:
    """Nothing listens on the port: no answer at all, every request refused. Not a latency of
    zero samples nor a failure: TargetUnreachable, naming URL, count and error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    run = run_slo(run_gate, tmp_path, url, "-k", PERCENTILES, requests=20)

    check = run.check("test_objective[p95-synthetic]")
    assert check.outcome == "error", run.output
    assert f"{url}: none of 20 requests got an answer; 20x ConnectError" in check.message
    assert decide(run.results).verdict is not Verdict.GO


needs_prometheus = pytest.mark.skipif(PROMETHEUS is None, reason="apt-get install prometheus")


IN_WINDOW = 'sum(increase(http_requests_total{route!="/metrics"}[1m]))'


def traffic(prometheus: PrometheusServer, url: str, requests: int, concurrency: int = 8) -> None:
    """Once Prometheus has scraped the service, send `requests` and wait until the window
    holds them (rate() needs two scrapes around them)."""
    prometheus.wait_for("sum(up)", 1)
    plan = SamplePlan(
        [Target("GET", "/api/tickets"), Target("GET", "/api/version")],
        requests,
        concurrency,
        150,
        60,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    take_samples(url, plan)
    prometheus.wait_for(IN_WINDOW, requests * 0.9)


def prometheus_outcomes(run: GateRun) -> dict[str, str]:
    """The checks from Prometheus: the objectives from its metrics, and the burn rates."""
    return {
        k: v
        for k, v in run.outcomes().items()
        if k.endswith("-prometheus]") or k.startswith("test_burn_rate.py")
    }


# the checks from Prometheus's metrics, and the error budget's burn rates
PROMETHEUS_CHECKS = "prometheus or burning"


@needs_prometheus
def test_prometheus_backed_checks_pass_a_healthy_service(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    with PrometheusServer(healthy_service.base_url) as prometheus:
        traffic(prometheus, healthy_service.base_url, 450)

        run = run_slo(
            run_gate,
            tmp_path,
            healthy_service.base_url,
            "-k",
            PROMETHEUS_CHECKS,
            extra=PROMETHEUS_TABLE.format(url=prometheus.url),
        )

    outcomes = prometheus_outcomes(run)
    assert outcomes["test_objectives.py::test_objective[p95-prometheus]"] == "passed", run.output
    assert outcomes["test_objectives.py::test_objective[error_ratio-prometheus]"] == "passed"
    assert outcomes["test_burn_rate.py::test_error_budget_is_not_burning_fast[30s-1m]"] == "passed"
    p95 = run.check("test_objective[p95-prometheus]").measurements[0]
    assert p95.source == "prometheus"
    assert (p95.samples or 0) >= 400


@needs_prometheus
def test_prometheus_backed_checks_fail_latency_and_errors(
    run_gate: RunGate, start_service: StartService, tmp_path: Path
) -> None:
    """latency=600ms and error-ratio=0.08, seen through Prometheus: p95 and error ratio fail;
    ~8 % errors against a 99 % objective burn the budget ~8x: under the fast pair's 14.4x and
    over the slow pair's 3x, each more than 3.5 standard deviations away at ~420 requests
    (5 % was too close: 12 errors in 414 requests, a 2.9x burn, happened in CI)."""
    service = start_service("latency=600ms", "error-ratio=0.08")
    with PrometheusServer(service.base_url) as prometheus:
        traffic(prometheus, service.base_url, 450, concurrency=32)

        run = run_slo(
            run_gate,
            tmp_path,
            service.base_url,
            "-k",
            PROMETHEUS_CHECKS,
            extra=PROMETHEUS_TABLE.format(url=prometheus.url),
        )

    latency = run.check("test_objective[p95-prometheus]")
    assert latency.outcome == "failed", run.output
    assert "exceeds 500 ms" in latency.message
    assert "window 1m" in latency.message
    assert run.check("test_objective[error_ratio-prometheus]").outcome == "failed", run.output
    assert run.check("test_error_budget_is_not_burning_fast[30s-1m]").outcome == "passed"
    burn = run.check("test_error_budget_is_not_burning_fast[30s-2m]")
    assert burn.outcome == "failed", run.output
    assert "error budget burning at" in burn.message
    assert "above 3x for a 99.000% objective" in burn.message


@needs_prometheus
def test_a_stopped_prometheus_is_inconclusive_with_the_query_shown(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    prometheus = PrometheusServer(healthy_service.base_url).start()
    prometheus.stop()

    run = run_slo(
        run_gate,
        tmp_path,
        healthy_service.base_url,
        "-k",
        PROMETHEUS_CHECKS,
        extra=PROMETHEUS_TABLE.format(url=prometheus.url),
    )

    outcomes = prometheus_outcomes(run)
    assert set(outcomes.values()) - {"skipped"} == {"error"}, run.output
    message = run.check("test_objective[error_ratio-prometheus]").message
    assert "Prometheus unreachable" in message
    assert "http_requests_total" in message
    assert decide(run.results).verdict is Verdict.HOLD


LOAD_AND_SLO = """
[target]
base_url = "{url}"
read_only = false
headers = {{ Authorization = "Bearer {token}" }}

[[endpoints]]
path = "/api/tickets"

[load]
profile = "smoke-load"
users = 2
spawn_rate = 2
duration = "3s"
wait_min = "0.02s"
wait_max = "0.05s"
min_requests = 30

[load.thresholds]
p95_ms = 500
failure_ratio_max = "10%"

[slo]
error_ratio_max = "1%"

[slo.synthetic]
rate = 150
duration = "30s"
"""


def test_a_short_load_stage_leaves_the_objective_to_the_synthetic_samples(
    healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """`releasegate run --stage load --stage slo` with a load stage of a few hundred requests,
    too few to show an error ratio under 1 %: that source says it cannot tell (advisory), the
    synthetic samples show it, and the objective is met: GO, not HOLD."""
    envs = tmp_path / "environments"
    write_env(envs, "staging", LOAD_AND_SLO.format(url=healthy_service.base_url, token=TOKEN))

    done = releasegate_in_repo(
        envs,
        *("run", "--env", "staging", "--stage", "load", "--stage", "slo"),
        f"--reports-dir={tmp_path / 'reports'}",
        *("--run-id", "load-and-slo", "--no-notify"),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = read_results(tmp_path / "reports" / "load-and-slo")
    checks = {short_id(c.id): c for c in results.checks}
    from_load = checks["test_objectives.py::test_objective[error_ratio-load]"]
    assert from_load.outcome == "error", from_load.message
    assert "cannot be told apart from 1.000%" in from_load.message
    assert not from_load.blocking
    met = checks["test_objectives.py::test_objective_is_met[error_ratio]"]
    assert met.outcome == "passed"
    assert met.blocking
    decided = {m.name: m.value for m in met.measurements}
    assert decided["decided by"] == "synthetic"


def test_a_run_with_the_pre_deploy_and_slo_gates_samples_the_target_once(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """With both gates in one run, the pre-deploy baseline is the SLO gate's samples, taken
    once (first, as pre-deploy comes first), not a second sampling of the same target."""
    run = run_slo(
        run_gate,
        tmp_path,
        healthy_service.base_url,
        "-k",
        "baseline_is_captured or p95-synthetic",
        marker="pre_deploy or slo",
    )

    outcomes = run.outcomes()
    assert outcomes["test_baseline.py::test_latency_baseline_is_captured"] == "passed", run.output
    assert outcomes["test_objectives.py::test_objective[p95-synthetic]"] == "passed"
    baseline = read_samples(run.run_dir / "baseline.json")
    samples = read_samples(run.run_dir / "samples.json")
    assert baseline.taken_at == samples.taken_at
    assert [s.latency_ms for s in baseline.samples] == [s.latency_ms for s in samples.samples]
