"""`releasegate demo`: the reference service, a watched deploy (a graceful restart), every
stage that has a suite, against it, in one pytest run. Deciding is `releasegate.ops.conclude`'s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from releasegate.config import Environment
from releasegate.evidence.runs import REFERENCE_LOG
from releasegate.ops.deploy_watch import WatchedDeploy, watch_deploy
from releasegate.ops.pytest_argv import pytest_argv
from releasegate.ops.watch import WatchPlan

NOT_A_CHECKOUT = (
    "releasegate demo runs from a releasegate checkout (a folder with suites/ and"
    " environments/local.toml); cd into one"
)


def project_root(start: Path) -> Path | None:
    """The releasegate checkout `start` is in: the nearest folder up with suites/ and
    environments/local.toml; None outside one."""
    for candidate in (start, *start.parents):
        if (candidate / "suites").is_dir() and (
            candidate / "environments" / "local.toml"
        ).is_file():
            return candidate
    return None


def run_demo(
    root: Path,
    env: Environment,
    *,
    faults: Sequence[str],
    stages: Sequence[str],
    run_id: str,
    reports_dir: Path,
    workers: str | None = None,
    on_service: Callable[[str], None] = lambda url: None,
    on_watch: Callable[[WatchPlan, str], None] = lambda plan, shown: None,
    on_watched: Callable[[WatchedDeploy], None] = lambda watched: None,
) -> None:
    """Start the reference service with `faults`, deploy it again (a graceful restart, watched
    for downtime like a real deploy), then run the stages against it. The callbacks are told
    the service's URL and the watch's plan and outcome as they happen.

    ReferenceServiceError when the service does not start; Ctrl-C propagates, the service
    stopped."""
    from releasegate.target.process import ReferenceServiceProcess

    ref = env.model.reference
    state = Path(tempfile.mkdtemp(prefix="releasegate-demo-")) / "service.json"
    try:
        with ReferenceServiceProcess(
            host=ref.host,
            faults=list(faults),
            api_token=ref.api_token,
            database_url=ref.database_url,
            service_version=ref.service_version,
            supervise=True,
            state_file=state,
            log_file=reports_dir / run_id / REFERENCE_LOG,
        ) as service:
            on_service(service.base_url)
            with _prometheus_beside(env, service.base_url) as environ:
                restart = [sys.executable, "-m", "releasegate", "target", "restart"]
                restart += ["--state-file", str(state)]
                watched = watch_deploy(
                    env, service.base_url, restart, reports_dir, announce=on_watch
                )
                on_watched(watched)
                argv = pytest_argv(
                    Path("suites"),
                    stages,
                    env_file=env.path,
                    run_id=run_id,
                    reports_dir=reports_dir,
                    base_url=service.base_url,
                    release_version=ref.service_version,
                    workers=workers,
                )
                subprocess.run(argv, cwd=root, check=False, env=environ)
    finally:
        shutil.rmtree(state.parent, ignore_errors=True)


@contextmanager
def _prometheus_beside(env: Environment, base_url: str) -> Iterator[dict[str, str]]:
    """With `[reference] prometheus = true`: a Prometheus scraping the service from before the
    deploy (as a real one would be), named to the gate run in its environment; without one
    (not installed, did not start), the gate run starts its own as it would alone."""
    from releasegate.target.prometheus_server import (
        PROMETHEUS,
        REFERENCE_PROMETHEUS_VAR,
        PrometheusServer,
    )

    environ = dict(os.environ)
    if not env.model.reference.prometheus or PROMETHEUS is None:
        yield environ
        return
    server = PrometheusServer(base_url)
    try:
        server.start()
    except RuntimeError:
        yield environ
        return
    try:
        yield {**environ, REFERENCE_PROMETHEUS_VAR: server.url}
    finally:
        server.stop()
