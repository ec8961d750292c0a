"""The `releasegate` command. It parses arguments, calls the core, prints, and exits with the
documented codes: 0 GO, 1 ROLLBACK, 2 HOLD, 3 usage or configuration error. No logic lives here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from releasegate import __version__
from releasegate.cli.common import fail as _fail
from releasegate.cli.common import reports_dir_option as shared_reports_dir_option
from releasegate.cli.common import suites_option
from releasegate.cli.live import run_pytest
from releasegate.config import (
    Environment,
    check_all,
    environments_dir,
    known_environments,
    load_environment,
    load_for_review,
    with_placeholders,
)
from releasegate.errors import ConfigError, EvidenceMissing, UsageError
from releasegate.evidence.decide import Decision, ExitCode
from releasegate.evidence.policy import explain, lint, lint_errors
from releasegate.evidence.results import EvidenceError, Results, read_results
from releasegate.evidence.runs import LATEST, check_run_id, new_run_id, resolve_run_dir, scrub_tree
from releasegate.ops.conclude import Conclusion, conclude
from releasegate.stages import STAGES


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="releasegate")
def cli() -> None:
    """Deployment gates as pytest suites: evidence in, GO / ROLLBACK / HOLD out."""


# --- decide ----------------------------------------------------------------------------------


def print_decision(decision: Decision, results: Results | None) -> None:
    """The decision for people: the run, each stage, the reasons, the warnings, the verdict."""
    if results is not None:
        run = results.run
        click.echo(
            f"run {run.id}: env={run.environment} target={run.target_url}"
            f" stages={','.join(run.stages_requested) or '-'} status={run.status}"
        )
    for stage in decision.stages:
        counts = ", ".join(f"{n} {o}" for o, n in stage.counts.items() if n) or "no checks"
        mode = "" if stage.blocking else " (dry run)"
        click.echo(f"  stage {stage.stage}: {stage.verdict.name}{mode} ({counts})")
    for reason in decision.reasons:
        click.echo(f"  {reason.line()}")
    for warning in decision.warnings:
        click.echo(f"  warning: {warning.line()}")


def print_actions(conclusion: Conclusion) -> None:
    actions = conclusion.record.actions
    for hook in (actions.rollback, actions.on_hold):
        if hook is None:
            continue
        if not hook.executed and not hook.exit_code:
            click.echo(f"{hook.kind} hook: would run `{hook.command}` ({hook.reason})")
        elif hook.failed:
            why = "timed out" if hook.timed_out else f"exited {hook.exit_code}"
            click.secho(
                f"{hook.kind.upper()} HOOK FAILED: `{hook.command}` {why}; output in"
                f" {conclusion.path.parent / 'actions' / (hook.kind + '.log')}",
                err=True,
                fg="red",
                bold=True,
            )
        else:
            note = f" ({hook.reason})" if hook.reason else ""
            click.echo(
                f"{hook.kind} hook ran: `{hook.command}` exit 0 in {hook.duration_s} s{note}"
            )
    for sent in actions.notifications:
        state = f"delivered ({sent.status})" if sent.delivered else f"FAILED: {sent.error}"
        click.echo(f"notification to {sent.url}: {state} after {sent.attempts} attempt(s)")
    click.echo(f"decision: {conclusion.path}")


def _finish(conclusion: Conclusion) -> NoReturn:
    print_decision(conclusion.decision, conclusion.results)
    print_actions(conclusion)
    click.echo(f"verdict: {conclusion.decision.summary()}")
    sys.exit(int(conclusion.decision.verdict))


def _check_run_dir(run_dir: Path) -> None:
    if not run_dir.exists():
        runs = sorted(p.name for p in run_dir.parent.glob("*") if p.is_dir() and p.name != LATEST)
        known = f"; runs there: {', '.join(runs[-5:])}" if runs else ""
        _fail(f"{run_dir}: no such run directory{known}")


def _environment_of_run(run_dir: Path) -> Environment | None:
    """The environment a run was made for, when its file is still here (for hooks, notify)."""
    try:
        name = read_results(resolve_run_dir(run_dir)).run.environment
        return load_environment(name)
    except (EvidenceError, ConfigError):
        return None


@cli.command("decide")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--env", "env_name", metavar="NAME", help="environment whose hooks and webhook to use"
)
@click.option("--execute-rollback", is_flag=True, help="run the rollback / on_hold hook")
@click.option("--notify", "send", is_flag=True, help="send the notification again")
def decide_command(run_dir: Path, env_name: str | None, execute_rollback: bool, send: bool) -> None:
    """Decide GO / ROLLBACK / HOLD from RUN_DIR (reports/<run-id> or reports/latest) alone,
    and write its decision.json."""
    _check_run_dir(run_dir)
    env = load_environment(env_name) if env_name else _environment_of_run(run_dir)
    _finish(conclude(run_dir, env, execute_hooks=execute_rollback, send_notifications=send))


reports_dir_option = shared_reports_dir_option()

# --- run -------------------------------------------------------------------------------------

STAGE_NAMES = {s.replace("_", "-"): s for s in STAGES} | {s: s for s in STAGES}


def stage_marker(name: str) -> str:
    try:
        return STAGE_NAMES[name]
    except KeyError:
        known = ", ".join(s.replace("_", "-") for s in STAGES)
        _fail(f"unknown stage {name!r}; stages: {known}")


@cli.command("run")
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    required=True,
    metavar="STAGE",
    help="pre-deploy, smoke, post-deploy, slo or load (repeatable)",
)
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@click.option("--release-version", metavar="V", help="the version this deploy should run")
@click.option("-n", "workers", metavar="N", help="pytest-xdist workers (e.g. 2 or auto)")
@click.option("--run-id", metavar="ID", help="name the run (default: time, env, random)")
@reports_dir_option
@suites_option
@click.option(
    "--execute-rollback",
    is_flag=True,
    help="on ROLLBACK run [rollback] command (else it is only shown)",
)
@click.option("--no-notify", is_flag=True, help="do not send the [notify] webhook")
@click.option(
    "--load-workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Locust workers under a local master for the load stage (default: [load] workers)",
)
def run_command(
    env_name: str,
    stages: Sequence[str],
    base_url: str | None,
    release_version: str | None,
    workers: str | None,
    run_id: str | None,
    reports_dir: Path,
    suites: Path,
    execute_rollback: bool,
    no_notify: bool,
    load_workers: int | None,
) -> None:
    """Run the asked-for stages with pytest (one run), decide, act, and exit 0/1/2/3."""
    markers = list(dict.fromkeys(stage_marker(s) for s in stages))
    env = load_environment(env_name)
    for warning in [*env.warnings, *lint(env)]:
        click.echo(f"warning: {warning}", err=True)
    for error in lint_errors(env):
        click.echo(f"error: {error} (the run goes on, and will not say GO)", err=True)
    if not suites.is_dir():
        _fail(f"{suites}: no such folder of gate suites (run from your repository, or --suites)")
    run_id = run_id or new_run_id(env.name)
    try:
        check_run_id(run_id)
    except ValueError as exc:
        _fail(f"--run-id: {exc}")
    reports = reports_dir.resolve()
    argv = [sys.executable, "-m", "pytest", str(suites), "-m", " or ".join(markers)]
    argv += [f"--env={env.path.resolve()}", "--run-id", run_id, f"--reports-dir={reports}"]
    argv += ["-p", "no:cacheprovider"]
    if base_url:
        argv.append(f"--base-url={base_url}")
    if release_version:
        argv.append(f"--release-version={release_version}")
    if workers:
        argv += ["-n", workers]
    if load_workers is not None:
        argv.append(f"--load-workers={load_workers}")
    if env.model.policy.retries:
        argv += ["--reruns", str(env.model.policy.retries)]
    click.echo(f"releasegate run {run_id}: env={env.name} stages={', '.join(markers)}")
    try:
        run_pytest(argv, reports / run_id)
    except KeyboardInterrupt:
        click.echo("interrupted: deciding on the evidence so far", err=True)
    scrub_tree(reports / run_id, env.redactor)  # pytest's saved output is written after its own
    _finish(
        conclude(
            reports / run_id, env, execute_hooks=execute_rollback, send_notifications=not no_notify
        )
    )


# --- report --------------------------------------------------------------------------------


@cli.group("report")
def report_group() -> None:
    """The report site for stakeholders."""


def build_and_say(reports_dir: Path, out: Path | None, allure: bool = True) -> Path:
    from releasegate.report.site import build_site

    if not reports_dir.is_dir():
        _fail(f"{reports_dir}: no reports folder (run the gates first)")
    built = build_site(reports_dir, out, allure=allure)
    for note in built.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"report site: {built.index} ({built.runs} runs)")
    return built.index


@report_group.command("build")
@reports_dir_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where to write the site (default: REPORTS_DIR/site)",
)
@click.option("--no-allure", is_flag=True, help="skip rendering Allure's HTML reports")
def report_build(reports_dir: Path, out: Path | None, no_allure: bool) -> None:
    """Build the static report site from every run under reports/."""
    build_and_say(reports_dir, out, allure=not no_allure)


@report_group.command("open")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports") / "site",
    show_default=True,
)
@click.option("--serve", is_flag=True, help="serve it on http://127.0.0.1:PORT until Ctrl-C")
@click.option("--port", type=int, default=8765, show_default=True)
def report_open(out: Path, serve: bool, port: int) -> None:
    """Print where the site is (and serve it on loopback with --serve)."""
    index = out / "index.html"
    if not index.exists():
        _fail(f"{index}: no site yet; run `releasegate report build`")
    click.echo(index.resolve().as_uri())
    if serve:
        import functools
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
        with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
            click.echo(f"serving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
            server.serve_forever()


# --- policy ----------------------------------------------------------------------------------


@cli.group("policy")
def policy_group() -> None:
    """The decision policy of an environment."""


@policy_group.command("explain")
@click.option("--env", "env_name", required=True, metavar="NAME")
def policy_explain(env_name: str) -> None:
    """Print the effective policy in plain words, and any contradictions in it. Unset
    variables get placeholders: the policy does not depend on secrets."""
    env = load_environment(env_name, environ=with_placeholders(os.environ))
    for line in explain(env):
        click.echo(line)
    for warning in lint(env):
        click.echo(f"warning: {warning}")
    errors = lint_errors(env)
    for error in errors:
        click.echo(f"error: {error}")
    if errors:
        sys.exit(ExitCode.USAGE)


# --- load ------------------------------------------------------------------------------------


@cli.group("load")
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
        _fail(f"--master-port is needed ([load] master_port is not set in {env.path})")
    target = env.base_url(base_url)
    if target is None:
        _fail(f"no target: pass --base-url or set [target] base_url in {env.path}")
    try:
        plan = plan_load(
            env, target, Path(tempfile.mkdtemp(prefix="releasegate-worker-")), Path.cwd()
        )
    except LoadRefused as exc:
        _fail(str(exc))
    argv = worker_argv(plan.common, master_host, port)
    click.echo(f"releasegate load worker: {plan.description}; master {master_host}:{port}")
    os.execvpe(argv[0], argv, plan.environ)  # noqa: S606 - argv built from the environment file


# --- baseline --------------------------------------------------------------------------------


@cli.command("baseline")
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@reports_dir_option
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
    compares against the newest one of the same target within [slo.baseline] max_age."""
    from releasegate.slo.baseline import synthetic_plan
    from releasegate.slo.synthetic import BASELINE_FILE, take_samples

    env = load_environment(env_name)
    target = env.base_url(base_url)
    if target is None:
        _fail(f"no target: pass --base-url or set [target] base_url in {env.path}")
    try:
        plan = synthetic_plan(env)
    except EvidenceMissing as exc:
        _fail(str(exc))
    samples = take_samples(target, plan, environment=env.name)
    if not samples.latencies():
        _fail(f"no answer from {env.redactor.redact(target)}: no baseline written", ExitCode.HOLD)
    path = out or reports_dir / "baselines" / f"{new_run_id(env.name)}" / BASELINE_FILE
    samples.write(path, env.redactor)
    click.echo(
        f"baseline: {len(samples.samples)} samples of {', '.join(samples.endpoints())}"
        f" in {samples.elapsed_s:.1f}s: {path}"
    )


# --- watch -----------------------------------------------------------------------------------


@cli.command("watch", context_settings={"ignore_unknown_options": True})
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@reports_dir_option
@click.option("--rate", type=click.FloatRange(0, 100, min_open=True), help="probes per second")
@click.option("--max-duration", metavar="DURATION", help="stop the deploy command after this")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def watch_command(
    env_name: str,
    base_url: str | None,
    reports_dir: Path,
    rate: float | None,
    max_duration: str | None,
    command: tuple[str, ...],
) -> None:
    """Run the deploy COMMAND while probing the target at a fixed rate; write every probe into
    a timeline (reports/watches/<run>/timeline.json) that the post-deploy gate judges.

    Exit 0: no downtime seen; 1: downtime (failed probes or a gap over the limits); 2: no
    evidence (the command failed, ran too long, or was interrupted); 3: usage error.

    \b
    releasegate watch --env staging -- ./deploy.sh v1.4.2
    """
    from releasegate.units import parse_duration

    env = load_environment(env_name)
    target = env.base_url(base_url)
    if target is None:
        _fail(
            f"no target: pass --base-url or set [target] base_url in {env.path}"
            " (the bundled service: start it with `releasegate target serve`)"
        )
    try:
        limit = parse_duration(max_duration) if max_duration else None
    except ValueError as exc:
        _fail(f"--max-duration: {exc}")
    argv: str | list[str] = command[0] if len(command) == 1 and " " in command[0] else list(command)
    sys.exit(watch_deploy(env, target, argv, reports_dir, rate=rate, max_duration_s=limit))


def watch_deploy(
    env: Environment,
    target: str,
    command: str | list[str],
    reports_dir: Path,
    *,
    rate: float | None = None,
    max_duration_s: float | None = None,
    label: str = "verdict",
) -> ExitCode:
    """Probe `target` while `command` runs, write the timeline, print the verdict on it."""
    from releasegate.ops.watch import (
        COMMAND_LOG,
        TIMELINE_FILE,
        evidence_problem,
        judge_timeline,
        run_watch,
        watch_plan,
    )

    config = env.model.watch
    plan = watch_plan(env, target, rate=rate, max_duration_s=max_duration_s)
    run_dir = reports_dir / "watches" / new_run_id(env.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    redact = env.redactor.redact
    shown = command if isinstance(command, str) else " ".join(command)
    click.echo(
        f"watch: probing {redact(target)} ({', '.join(plan.paths)}) at {plan.rate_per_s:g}/s"
        f" while running: {redact(shown)}"
    )
    timeline = run_watch(plan, command, environment=env.name, log=run_dir / COMMAND_LOG)
    timeline.write(run_dir / TIMELINE_FILE, env.redactor)
    scrub_tree(run_dir, env.redactor)
    click.echo(f"timeline: {run_dir / TIMELINE_FILE} (command output: {run_dir / COMMAND_LOG})")
    problem = evidence_problem(timeline)
    if problem is not None:
        click.echo(f"{label}: HOLD: {redact(problem)}")
        return ExitCode.HOLD
    verdict = judge_timeline(timeline, max_failed=config.max_failed, max_gap_s=config.max_gap)
    if verdict.ok:
        click.echo(f"{label}: GO: no downtime: {verdict.message}")
        return ExitCode.GO
    click.echo(f"{label}: ROLLBACK: downtime during the deploy: {redact(verdict.message)}")
    return ExitCode.ROLLBACK


# --- envs ------------------------------------------------------------------------------------


@cli.group("envs", invoke_without_command=True)
@click.pass_context
def envs(ctx: click.Context) -> None:
    """List the environments (environments/*.toml)."""
    if ctx.invoked_subcommand is not None:
        return
    directory = environments_dir()
    names = known_environments(directory)
    if not names:
        _fail(f"no environment files in {directory}")
    for name in names:
        try:
            env = load_for_review(name, directory)
        except ConfigError as exc:
            click.echo(f"{name:24} INVALID: {exc}")
            continue
        target = env.model.target.base_url or (
            "reference service (started on demand)" if env.model.reference.start else "-"
        )
        mode = "read-only" if env.read_only else "writable"
        click.echo(f"{name:24} {env.redactor.redact(target)}  [{mode}]  {env.model.description}")


@envs.command("check")
def envs_check() -> None:
    """Validate every environment file; exit 3 if any is invalid."""
    directory = environments_dir()
    names = known_environments(directory)
    if not names:
        _fail(f"no environment files in {directory}")
    bad = 0
    for name, problems in check_all(directory).items():
        warnings: list[str] = []
        if not problems:
            env = load_for_review(name, directory)
            problems = lint_errors(env)
            warnings = lint(env)
        if problems:
            bad += 1
            for problem in problems:
                click.echo(f"FAIL {name}: {problem}")
        else:
            click.echo(f"ok   {name}")
        for warning in warnings:
            click.echo(f"     warning: {warning}")
    if bad:
        _fail(f"{bad} of {len(names)} environment files are invalid")


# --- target ----------------------------------------------------------------------------------


@cli.group("target")
def target() -> None:
    """The bundled reference service (a real web app with switchable faults)."""


def _add_target_commands() -> None:
    from releasegate.target.command import restart_command, serve_command

    target.add_command(serve_command, "serve")
    target.add_command(restart_command, "restart")


_add_target_commands()


def _add_monitor_command() -> None:
    from releasegate.cli.monitor_command import monitor_command

    cli.add_command(monitor_command, "monitor")


_add_monitor_command()


def _add_rollout_commands() -> None:
    from releasegate.cli.rollout_command import rollout_group

    cli.add_command(rollout_group, "rollout")


_add_rollout_commands()


# --- demo ------------------------------------------------------------------------------------


def _project_root() -> Path:
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if (candidate / "suites").is_dir() and (
            candidate / "environments" / "local.toml"
        ).is_file():
            return candidate
    return _fail(
        "releasegate demo runs from a releasegate checkout (a folder with suites/ and"
        " environments/local.toml); cd into one"
    )


def existing_stages(root: Path) -> list[str]:
    """Stages that have a suite folder with tests in it."""
    return [s for s in STAGES if any((root / "suites" / s).glob("test_*.py"))]


@cli.command("demo")
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
def demo(faults: Sequence[str], workers: str | None, reports_dir: Path | None) -> None:
    """Start the reference service, run every gate against it, and decide."""
    from releasegate.target.faults import FaultError, parse_faults
    from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess

    root = _project_root()
    try:
        parse_faults(faults)
        env = load_environment("local", root / "environments")
    except (FaultError, ConfigError) as exc:
        _fail(str(exc))
    stages = existing_stages(root)
    run_id = new_run_id("local")
    reports = (reports_dir or root / "reports").resolve()
    ref = env.model.reference
    click.echo(
        f"releasegate demo: stages {', '.join(stages)}; faults: {', '.join(faults) or 'none'}"
    )
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
        ) as service:
            click.echo(f"reference service listening on {service.base_url}")
            # the "deploy": a graceful restart, watched for downtime like a real one
            restart = [sys.executable, "-m", "releasegate", "target", "restart"]
            restart += ["--state-file", str(state)]
            watch_deploy(env, service.base_url, restart, reports, label="deploy watch")
            stage_expr = " or ".join(stages)
            argv = [sys.executable, "-m", "pytest", "suites", "-m", stage_expr, "--env", "local"]
            argv += ["--base-url", service.base_url, "--run-id", run_id]
            argv += ["--release-version", ref.service_version]
            argv += [f"--reports-dir={reports}", "-p", "no:cacheprovider"]
            if workers:
                argv += ["-n", workers]
            subprocess.run(argv, cwd=root, check=False)
    except ReferenceServiceError as exc:
        _fail(f"cannot start the reference service: {exc}")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
    finally:
        shutil.rmtree(state.parent, ignore_errors=True)
    run_dir = reports / run_id
    conclusion = conclude(run_dir, env, execute_hooks=False, send_notifications=False)
    click.echo("")
    click.echo(f"reports: {run_dir}  (report.html, junit.xml, allure-results/, results.json)")
    build_and_say(reports, None)
    click.echo(f"run page: {reports / 'site' / 'runs' / run_id / 'index.html'}")
    _finish(conclusion)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every usage or configuration error is one line and exit code 3."""
    try:
        cli.main(args=argv, prog_name="releasegate", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("releasegate: interrupted", err=True)
        sys.exit(ExitCode.HOLD)
    except click.ClickException as exc:
        _fail(exc.format_message())
    except UsageError as exc:  # not ReleasegateError: missing evidence is no usage error
        _fail(str(exc))
    sys.exit(0)
