"""`releasegate baseline --env E`: the SLO baseline, taken before a deploy."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.common import fail, reports_dir_option
from releasegate.config import load_environment
from releasegate.errors import BaselineUnanswered, EvidenceMissing
from releasegate.evidence.decide import ExitCode
from releasegate.evidence.runs import new_run_id
from releasegate.metrics.before_capture import take_metric_befores
from releasegate.ops.baseline_capture import take_baseline
from releasegate.slo.synthetic import BASELINE_FILE


@click.command("baseline")
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@reports_dir_option()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="where to write it (default: REPORTS/baselines/<env>-<time>/baseline.json)",
)
def baseline_command(
    env_name: str, base_url: str | None, reports_dir: Path, out: Path | None
) -> None:
    """Take the latency baseline before a deploy: the SLO gate's synthetic samples of the key
    endpoints, written as baseline.json (with the target URL and the time); the SLO gate
    compares against the newest one of the same target within [slo.baseline] max_age. Every
    [[metrics]] entry with before = "baseline" is measured too and kept beside it."""
    env = load_environment(env_name)
    target = env.base_url(base_url)
    if target is None:
        fail(f"no target: pass --base-url or set [target] base_url in {env.path}")
    path = out or reports_dir / "baselines" / new_run_id(env.name) / BASELINE_FILE
    try:
        taken = take_baseline(env, target, path)
    except BaselineUnanswered as exc:
        fail(str(exc), ExitCode.HOLD)
    except EvidenceMissing as exc:
        fail(str(exc))
    click.echo(f"{taken.line()}: {taken.path}")
    problems = 0
    for line, ok in take_metric_befores(env, target, taken.path.parent):
        click.echo(env.redactor.redact(line), err=not ok)
        problems += not ok
    if problems:
        raise SystemExit(ExitCode.HOLD)
