"""`releasegate init --base-url URL [--name NAME] [--force]`: an environment file for a running
application, written by looking at it (read-only, same origin, bounded)."""

from __future__ import annotations

import click

from releasegate.cli.common import fail
from releasegate.config import environments_dir
from releasegate.ops.init.init_file import InitRefused, init_environment


@click.command("init")
@click.option("--base-url", required=True, metavar="URL", help="where the application answers")
@click.option("--name", metavar="NAME", help="the environment's name (default: from the host)")
@click.option("--force", is_flag=True, help="replace an existing environments/NAME.toml")
def init_command(base_url: str, name: str | None, force: bool) -> None:
    """Write environments/NAME.toml for the application at URL, from what it serves: health and
    version endpoints, pages, an OpenAPI document, security and cache headers (at most 100
    GET/HEAD requests and 30 s, one at a time, never another origin)."""
    try:
        written = init_environment(base_url, environments_dir(), name=name, force=force)
    except InitRefused as exc:
        fail(str(exc))
    found = written.findings
    click.echo(f"looked at {found.base_url}: {found.requests} requests in {found.seconds:.1f}s")
    if found.stopped_early:
        click.echo("  stopped at the request or time budget: some things were not looked at")
    click.echo(f"  pages: {', '.join(p.path for p in found.pages) or 'none'}")
    health = f"{found.health_path} ({found.health_format})" if found.health_path else "none"
    click.echo(f"  health: {health}")
    version = (
        f"{found.version_path} ({found.version_key})"
        if found.version_path
        else found.version_header or found.version_meta or "none"
    )
    click.echo(f"  version: {version}")
    click.echo(f"  OpenAPI document: {found.openapi_path or 'none'}")
    if found.headers_missing:
        click.echo(f"  security headers not sent: {', '.join(sorted(found.headers_missing))}")
    for item in found.missing:
        click.echo(f"  not found: {item}")
    if written.problems:
        for problem in written.problems:
            click.echo(f"FAIL {problem}", err=True)
        fail(f"{written.path} was written but does not load; fix it, or report this")
    click.echo(f"wrote {written.path} (envs check: ok)")
    click.echo(f"next: pytest -m smoke --env={written.name}")
