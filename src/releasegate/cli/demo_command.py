"""`releasegate demo`: the whole pipeline against the bundled reference service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from releasegate.cli.common import fail
from releasegate.cli.report_command import build_and_say
from releasegate.cli.verdict_output import finish
from releasegate.cli.watch_command import say_watched, say_watching
from releasegate.config import load_environment
from releasegate.errors import ConfigError
from releasegate.evidence.runs import new_run_id
from releasegate.ops.conclude import conclude
from releasegate.ops.demo import NOT_A_CHECKOUT, project_root, run_demo
from releasegate.ops.pytest_argv import existing_stages


@click.command("demo")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME[=VALUE]",
    help="switch a fault on in the reference service (repeatable), e.g. latency=300ms",
)
@click.option("-n", "workers", default=None, help="pytest-xdist workers (e.g. 2 or auto)")
@click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the run is written (default: reports/ in the checkout)",
)
def demo_command(faults: Sequence[str], workers: str | None, reports_dir: Path | None) -> None:
    """Start the reference service, run every gate against it, and decide."""
    from releasegate.target.faults import FaultError, parse_faults
    from releasegate.target.process import ReferenceServiceError

    root = project_root(Path.cwd())
    if root is None:
        fail(NOT_A_CHECKOUT)
    try:
        parse_faults(faults)
        env = load_environment("local", root / "environments")
    except (FaultError, ConfigError) as exc:
        fail(str(exc))
    stages = existing_stages(root)
    run_id = new_run_id("local")
    reports = (reports_dir or root / "reports").resolve()
    click.echo(
        f"releasegate demo: stages {', '.join(stages)}; faults: {', '.join(faults) or 'none'}"
    )
    try:
        run_demo(
            root,
            env,
            faults=faults,
            stages=stages,
            run_id=run_id,
            reports_dir=reports,
            workers=workers,
            on_service=lambda url: click.echo(f"reference service listening on {url}"),
            on_watch=lambda plan, shown: say_watching(env, plan, shown),
            on_watched=lambda watched: say_watched(env, watched, "deploy watch"),
        )
    except ReferenceServiceError as exc:
        fail(f"cannot start the reference service: {exc}")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
    run_dir = reports / run_id
    conclusion = conclude(run_dir, env, execute_hooks=False, send_notifications=False)
    click.echo("")
    click.echo(f"reports: {run_dir}  (report.html, junit.xml, allure-results/, results.json)")
    build_and_say(reports, None)
    click.echo(f"run page: {reports / 'site' / 'runs' / run_id / 'index.html'}")
    finish(conclusion)
