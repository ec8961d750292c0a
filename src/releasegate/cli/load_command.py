"""`releasegate load worker`: one Locust worker joining a gate's load master."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from releasegate.cli.common import fail
from releasegate.config import load_environment


@click.group("load")
def load_group() -> None:
    """The load gate's Locust processes."""


@load_group.command("worker")
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option("--master-host", required=True, help="where the gate's Locust master listens")
@click.option("--master-port", type=int, default=None, help="default: [load] master_port")
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
def load_worker(
    env_name: str, master_host: str, master_port: int | None, base_url: str | None
) -> None:
    """Run one Locust worker for the environment's load profile, on this host, joining the
    master that `releasegate run --stage load` started elsewhere (`[load] expect_workers`).
    The same environment file gives it the same locustfile, profile, target and guardrails."""
    from releasegate.load.runner import LoadRefused, plan_load, worker_argv

    env = load_environment(env_name)
    port = master_port or env.model.load.master_port
    if port is None:
        fail(f"--master-port is needed ([load] master_port is not set in {env.path})")
    target = env.base_url(base_url)
    if target is None:
        fail(f"no target: pass --base-url or set [target] base_url in {env.path}")
    try:
        plan = plan_load(
            env, target, Path(tempfile.mkdtemp(prefix="releasegate-worker-")), Path.cwd()
        )
    except LoadRefused as exc:
        fail(str(exc))
    argv = worker_argv(plan.common, master_host, port)
    click.echo(f"releasegate load worker: {plan.description}; master {master_host}:{port}")
    os.execvpe(argv[0], argv, plan.environ)  # noqa: S606 - argv built from the environment file
