"""`releasegate report publish`'s destinations without a network: the `--to` forms, a folder
that keeps what earlier builds published, atomic writes, the order files are written in, the
commit message, and the one-line errors."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from releasegate.errors import PublishFailed, SiteManifestUnreadable, UsageError
from releasegate.evidence.results import CheckResult
from releasegate.report.publish import (
    S3_EXTRA_HINT,
    DirectoryDestination,
    GhPagesDestination,
    S3Destination,
    commit_message,
    content_type,
    parse_destination,
    publish_site,
    upload_order,
)
from releasegate.report.summary import RunSummary, write_manifest
from tests.report_runs import staging_environments
from tests.report_runs import write_run as write_staging_run

CWD = Path("/work/app")


@pytest.fixture(autouse=True)
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment the hand-made runs name: the site masks with its secrets."""
    envs = staging_environments(tmp_path / "environments")
    monkeypatch.setenv("RELEASEGATE_ENV_DIR", str(envs))
    return envs


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def write_run(reports: Path, run_id: str, outcome: str = "passed", hour: int = 0) -> Path:
    """A finished smoke run of one check, as the gates write it."""
    check = CheckResult(
        id="suites/smoke/test_health.py::test_health", stage="smoke", outcome=outcome
    )
    return write_staging_run(reports, run_id, [check], hour=hour)


def make_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def described(destination: object) -> tuple[object, ...]:
    if isinstance(destination, DirectoryDestination):
        return ("dir", destination.root)
    if isinstance(destination, S3Destination):
        return ("s3", destination.bucket, destination.prefix, destination.endpoint_url)
    if isinstance(destination, GhPagesDestination):
        return ("gh-pages", destination.branch, destination.push, destination.cwd)
    raise AssertionError(destination)


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        pytest.param("public", {}, ("dir", CWD / "public"), id="relative-folder"),
        pytest.param("./site/", {}, ("dir", CWD / "site"), id="dot-relative-folder"),
        pytest.param("/srv/www/gates", {}, ("dir", Path("/srv/www/gates")), id="absolute-folder"),
        pytest.param("./gh-pages", {}, ("dir", CWD / "gh-pages"), id="folder-named-gh-pages"),
        pytest.param("s3://gates", {}, ("s3", "gates", "", None), id="bucket"),
        pytest.param("s3://gates/", {}, ("s3", "gates", "", None), id="bucket-slash"),
        pytest.param(
            "s3://gates.example/ci/staging/",
            {},
            ("s3", "gates.example", "ci/staging", None),
            id="bucket-and-prefix",
        ),
        pytest.param(
            "S3://gates/site",
            {"endpoint_url": "http://127.0.0.1:9000"},
            ("s3", "gates", "site", "http://127.0.0.1:9000"),
            id="s3-compatible-endpoint",
        ),
        pytest.param("gh-pages", {}, ("gh-pages", "gh-pages", False, CWD), id="gh-pages"),
        pytest.param(
            "gh-pages", {"push": True}, ("gh-pages", "gh-pages", True, CWD), id="gh-pages-push"
        ),
        pytest.param(
            "gh-pages:site/gates", {}, ("gh-pages", "site/gates", False, CWD), id="other-branch"
        ),
    ],
)
def test_to_names_a_destination(text: str, options: dict[str, object], expected: tuple) -> None:
    destination = parse_destination(text, cwd=CWD, **options)  # type: ignore[arg-type]

    assert described(destination) == expected


@pytest.mark.parametrize(
    ("text", "options", "said"),
    [
        pytest.param("", {}, "--to is empty; use a folder, s3://BUCKET/PREFIX", id="empty"),
        pytest.param("  ", {}, "--to is empty", id="blank"),
        pytest.param(
            "https://pages.example/gates", {}, "https:// is not supported; use", id="http-url"
        ),
        pytest.param("file:///srv/www", {}, "file:// is not supported", id="file-url"),
        pytest.param("gs://bucket/site", {}, "gs:// is not supported", id="other-cloud"),
        pytest.param("s3://", {}, "--to s3://: no bucket named", id="no-bucket"),
        pytest.param("s3:///site", {}, "no bucket named", id="empty-bucket"),
        pytest.param("s3://Gates_Site", {}, "'Gates_Site' is no S3 bucket name", id="bad-bucket"),
        pytest.param("s3://ab", {}, "is no S3 bucket name", id="short-bucket"),
        pytest.param("s3://gates/a//b", {}, "the prefix 'a//b' has an empty", id="empty-part"),
        pytest.param("s3://gates/a/../b", {}, "has an empty, . or .. part", id="dot-dot"),
        pytest.param("gh-pages:", {}, "'' is no branch name", id="empty-branch"),
        pytest.param("gh-pages:-f", {}, "'-f' is no branch name", id="option-like-branch"),
        pytest.param("gh-pages:a..b", {}, "is no branch name", id="dot-dot-branch"),
        pytest.param("gh-pages:site.lock", {}, "is no branch name", id="lock-branch"),
        pytest.param("public", {"push": True}, "--push applies to --to gh-pages only", id="push"),
        pytest.param(
            "s3://gates", {"push": True}, "--push applies to --to gh-pages only", id="push-s3"
        ),
        pytest.param(
            "gh-pages",
            {"endpoint_url": "http://127.0.0.1:9000"},
            "--endpoint-url applies to --to s3://BUCKET only",
            id="endpoint-gh-pages",
        ),
    ],
)
def test_a_to_of_no_known_form_is_one_line(
    text: str, options: dict[str, object], said: str
) -> None:
    with pytest.raises(PublishFailed) as raised:
        parse_destination(text, cwd=CWD, **options)  # type: ignore[arg-type]

    assert said in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, UsageError)  # exit code 3 at the command line


def test_a_to_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site").write_text("not a folder")

    with pytest.raises(PublishFailed, match=r"site is a file, not a folder"):
        parse_destination("site", cwd=tmp_path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("runs/r1/report.html", "text/html; charset=utf-8"),
        ("site.json", "application/json"),
        ("runs/r1/artefacts/visit/screenshot.PNG", "image/png"),
        ("runs/r1/artefacts/visit/trace.zip", "application/zip"),
        ("uptime/chart.svg", "image/svg+xml"),
        ("runs/r1/junit.xml", "application/xml"),
        ("runs/r1/artefacts/load/locust_stats.csv", "text/csv; charset=utf-8"),
        ("runs/r1/artefacts/visit/network.har", "application/json"),
        ("runs/r1/artefacts/blob", "application/octet-stream"),
    ],
)
def test_each_file_is_served_with_its_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected


def test_the_index_and_the_manifest_are_written_last(tmp_path: Path) -> None:
    """Run pages before what links to them, each folder's index after its files, and the
    root's site.json and index.html at the very end."""
    site = make_site(
        tmp_path / "site",
        {
            "index.html": "",
            "site.json": "",
            "rollouts/r/index.html": "",
            "uptime/index.html": "",
            "runs/b/index.html": "",
            "runs/b/report.html": "",
            "runs/b/artefacts/x/screenshot.png": "",
            "runs/a/index.html": "",
        },
    )

    order = upload_order(site)

    assert order == [
        "runs/b/artefacts/x/screenshot.png",
        "runs/b/report.html",
        "runs/a/index.html",
        "runs/b/index.html",
        "rollouts/r/index.html",
        "uptime/index.html",
        "site.json",
        "index.html",
    ]


def test_a_symbolic_link_in_the_site_is_not_published(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.txt").write_text("not the site's")
    site = make_site(tmp_path / "site", {"index.html": ""})
    (site / "leak.txt").symlink_to(tmp_path / "elsewhere.txt")

    assert upload_order(site) == ["index.html"]


def test_a_folder_keeps_earlier_runs_and_overwrites_the_same_paths(tmp_path: Path) -> None:
    published = make_site(
        tmp_path / "www",
        {"index.html": "old index", "runs/r1/index.html": "run one", "site.json": "{}"},
    )
    new = make_site(
        tmp_path / "new",
        {"index.html": "new index", "runs/r2/index.html": "run two", "site.json": "[]"},
    )

    where = DirectoryDestination(published).upload(new)

    assert where == str(published)
    assert (published / "runs" / "r1" / "index.html").read_text() == "run one"
    assert (published / "runs" / "r2" / "index.html").read_text() == "run two"
    assert (published / "index.html").read_text() == "new index"
    assert (published / "site.json").read_text() == "[]"


def test_a_folder_that_does_not_exist_yet_is_made(tmp_path: Path, umask_022: None) -> None:
    """Files are readable by a web server running as another user (mkstemp's 0600 undone)."""
    new = make_site(tmp_path / "new", {"index.html": "x", "runs/r1/index.html": "y"})

    DirectoryDestination(tmp_path / "public" / "gates").upload(new)

    page = tmp_path / "public" / "gates" / "runs" / "r1" / "index.html"
    assert page.read_text() == "y"
    assert stat.S_IMODE(page.stat().st_mode) == 0o644


def test_an_interrupted_write_leaves_the_published_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a file is written: the old file is still there, whole, and no
    temporary file is left beside it."""
    published = make_site(tmp_path / "www", {"index.html": "old index"})
    new = make_site(tmp_path / "new", {"index.html": "new index " * 1000})

    def interrupted(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)

    with pytest.raises(KeyboardInterrupt):
        DirectoryDestination(published).upload(new)

    assert (published / "index.html").read_text() == "old index"
    assert sorted(p.name for p in published.iterdir()) == ["index.html"]


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    new = make_site(tmp_path / "new", {"index.html": "x"})

    with pytest.raises(PublishFailed) as raised:
        DirectoryDestination(tmp_path / "a-file" / "site").upload(new)

    message = str(raised.value)
    assert "a-file" in message
    assert "cannot write the site there: Not a directory" in message
    assert "\n" not in message


def test_read_text_of_a_folder(tmp_path: Path) -> None:
    published = make_site(tmp_path / "www", {"site.json": '{"runs": []}'})
    destination = DirectoryDestination(published)

    assert destination.read_text("site.json") == '{"runs": []}'
    assert destination.read_text("runs/none/index.html") is None
    assert DirectoryDestination(tmp_path / "nothing-yet").read_text("site.json") is None
    with pytest.raises(PublishFailed, match="not a path inside the site"):
        destination.read_text("../secrets.txt")


def test_s3_without_boto3_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` raises ImportError

    with pytest.raises(PublishFailed) as raised:
        S3Destination("gates", "site").read_text("site.json")

    assert str(raised.value) == S3_EXTRA_HINT
    assert str(raised.value) == "s3 publishing needs boto3: pip install 'releasegate[s3]'"


def test_gh_pages_outside_a_git_repository_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "not-a-repo").mkdir()

    with pytest.raises(PublishFailed) as raised:
        GhPagesDestination(cwd=tmp_path / "not-a-repo").read_text("site.json")

    message = str(raised.value)
    assert "not-a-repo is not in a git repository" in message
    assert "publish --to DIR" in message
    assert "\n" not in message


def summary(run_id: str, verdict: str, hour: int) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        environment="staging",
        verdict=verdict,
        started_at=datetime(2026, 1, 1, hour, tzinfo=UTC),
    )


def test_the_commit_message_names_the_newest_run_from_site_json(tmp_path: Path) -> None:
    write_manifest(
        tmp_path,  # no pages: the manifest alone says it
        [
            summary("20260101T010000Z-staging-aaaa", "GO", 1),
            summary("20260101T030000Z-staging-cccc", "ROLLBACK", 3),
            summary("20260101T020000Z-staging-bbbb", "GO", 2),
        ],
    )

    assert commit_message(tmp_path) == (
        "releasegate report: 3 runs, newest 20260101T030000Z-staging-cccc ROLLBACK"
    )


def test_without_site_json_the_commit_message_comes_from_the_pages(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "index.html": '<a href="runs/r2/index.html">r2</a> <a href="runs/r1/index.html">',
            "runs/r2/index.html": '<section data-verdict="HOLD">',
            "runs/r1/index.html": '<section data-verdict="GO">',
        },
    )

    assert commit_message(site) == "releasegate report: 2 runs, newest r2 HOLD"


def test_an_empty_site_has_a_commit_message_too(tmp_path: Path) -> None:
    write_manifest(tmp_path, [])

    assert commit_message(tmp_path) == "releasegate report: 0 runs"


def test_publishing_twice_to_a_folder_lists_both_runs(tmp_path: Path) -> None:
    """Two CI jobs, each with its own fresh run: the second site's index lists the first run
    too (read back from the published site.json), and the first run's page stays."""
    write_run(tmp_path / "job1", "20260101T000000Z-staging-aaaa")
    write_run(tmp_path / "job2", "20260101T010000Z-staging-bbbb", outcome="failed", hour=1)
    destination = DirectoryDestination(tmp_path / "www")
    notes: list[str] = []

    publish_site(tmp_path / "job1", destination, allure=False, on_note=notes.append)
    where = publish_site(tmp_path / "job2", destination, allure=False, on_note=notes.append)

    www = tmp_path / "www"
    index = (www / "index.html").read_text()
    assert where == str(www)
    assert (www / "runs" / "20260101T000000Z-staging-aaaa" / "index.html").is_file()
    assert (www / "runs" / "20260101T010000Z-staging-bbbb" / "index.html").is_file()
    assert "runs/20260101T000000Z-staging-aaaa/index.html" in index
    assert "runs/20260101T010000Z-staging-bbbb/index.html" in index
    assert commit_message(www) == (
        "releasegate report: 2 runs, newest 20260101T010000Z-staging-bbbb ROLLBACK"
    )
    assert notes == []


def test_a_published_site_json_that_is_not_ours_stops_the_publish(tmp_path: Path) -> None:
    """Publishing over it would drop the history it holds: nothing is written."""
    write_run(tmp_path / "job", "20260101T000000Z-staging-aaaa")
    www = make_site(tmp_path / "www", {"site.json": '{"something": "else"', "index.html": "old"})

    with pytest.raises(SiteManifestUnreadable) as raised:
        publish_site(tmp_path / "job", DirectoryDestination(www), allure=False)

    assert "site.json" in str(raised.value)
    assert (www / "index.html").read_text() == "old"
    assert not (www / "runs").exists()


def test_a_run_that_a_concurrent_publish_dropped_from_site_json_is_listed_again(
    tmp_path: Path,
) -> None:
    """Two jobs publish at once: the second's site.json lacks the first's run (here: the first
    job's site.json is gone), but the run's folder keeps its summary, so the next publish lists
    it again and says so."""
    write_run(tmp_path / "job1", "20260101T000000Z-staging-aaaa")
    write_run(tmp_path / "job2", "20260101T010000Z-staging-bbbb", outcome="failed", hour=1)
    destination = DirectoryDestination(tmp_path / "www")
    publish_site(tmp_path / "job1", destination, allure=False)
    (tmp_path / "www" / "site.json").unlink()  # what the other job's site.json would lack
    notes: list[str] = []

    publish_site(tmp_path / "job2", destination, allure=False, on_note=notes.append)

    index = (tmp_path / "www" / "index.html").read_text()
    manifest = (tmp_path / "www" / "site.json").read_text()
    assert "runs/20260101T000000Z-staging-aaaa/index.html" in index
    assert manifest.count('"run_id"') == 2
    assert notes == [
        "1 published run(s) missing from site.json (another publish at the same time) listed again"
    ]
