"""`releasegate report build|publish|open`: the static report site for stakeholders."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.common import fail, reports_dir_option


@click.group("report")
def report_group() -> None:
    """The report site for stakeholders."""


def build_and_say(reports_dir: Path, out: Path | None, allure: bool = True) -> Path:
    """Build the site (its notes on stderr) and print where it is."""
    from releasegate.report.site import build_site

    if not reports_dir.is_dir():
        fail(f"{reports_dir}: no reports folder (run the gates first)")
    built = build_site(reports_dir, out, allure=allure)
    for note in built.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"report site: {built.index} ({built.runs} runs)")
    return built.index


@report_group.command("build")
@reports_dir_option()
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


@report_group.command("publish")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="DIR|s3://BUCKET/PREFIX|gh-pages",
    help="a folder; objects in an S3 bucket (boto3: pip install 'releasegate[s3]'); or the"
    " gh-pages branch of the git repository here (gh-pages:BRANCH for another branch)",
)
@reports_dir_option()
@click.option("--no-allure", is_flag=True, help="skip rendering Allure's HTML reports")
@click.option(
    "--endpoint-url",
    default=None,
    metavar="URL",
    help="s3: an S3-compatible server (MinIO, Ceph, ...); AWS_ENDPOINT_URL works too",
)
@click.option("--push", is_flag=True, help="gh-pages: push the branch to origin")
def report_publish(
    to: str, reports_dir: Path, no_allure: bool, endpoint_url: str | None, push: bool
) -> None:
    """Build the site, with the runs already published there, and publish it.

    Files already published are overwritten or kept, never deleted: runs published by other
    CI jobs stay listed."""
    from releasegate.errors import PublishFailed, SiteManifestUnreadable
    from releasegate.report.publish import parse_destination, publish_site

    if not reports_dir.is_dir():
        fail(f"{reports_dir}: no reports folder (run the gates first)")
    try:
        destination = parse_destination(to, endpoint_url=endpoint_url, push=push)
        where = publish_site(
            reports_dir,
            destination,
            allure=not no_allure,
            on_note=lambda note: click.echo(f"note: {note}", err=True),
        )
    except (PublishFailed, SiteManifestUnreadable) as exc:
        fail(str(exc))
    click.echo(f"published: {where}")


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
        fail(f"{index}: no site yet; run `releasegate report build`")
    click.echo(index.resolve().as_uri())
    if serve:
        import functools
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        handler = functools.partial(SimpleHTTPRequestHandler, directory=str(out))
        with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
            click.echo(f"serving on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
            server.serve_forever()
