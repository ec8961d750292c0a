"""`releasegate report publish` as CI runs it, as a subprocess: to a real S3-compatible server
(moto's, on 127.0.0.1) and to the gh-pages branch of a real git repository with a bare
`origin`; and its one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from releasegate.evidence.results import CheckResult
from tests.integration.conftest import ROOT, gate_env
from tests.report_runs import staging_environments
from tests.report_runs import write_run as write_staging_run

FIRST = "20260101T000000Z-staging-aaaa"
SECOND = "20260101T010000Z-staging-bbbb"
THIRD = "20260101T020000Z-staging-cccc"
BUCKET = "release-gates"
# fake credentials for moto, which accepts any
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
    "AWS_DEFAULT_REGION": "us-east-1",
}


def write_run(reports: Path, run_id: str, *, outcome: str = "passed", hour: int = 0) -> Path:
    """A finished smoke run of one check with a screenshot, as the gates write it."""
    check = CheckResult(
        id="suites/smoke/test_pages.py::test_home",
        stage="smoke",
        outcome=outcome,
        message="" if outcome == "passed" else "home page answered 500",
        artefacts=["artefacts/home.png"],
    )
    run_dir = write_staging_run(reports, run_id, [check], hour=hour)
    (run_dir / "artefacts").mkdir()
    (run_dir / "artefacts" / "home.png").write_bytes(b"\x89PNG")
    return run_dir


@pytest.fixture
def jobs(tmp_path: Path) -> dict[str, Path]:
    """Three CI jobs' reports folders, one fresh run each, and the environment they name."""
    envs = staging_environments(tmp_path / "environments")
    write_run(tmp_path / "job1", FIRST)
    write_run(tmp_path / "job2", SECOND, outcome="failed", hour=1)
    write_run(tmp_path / "job3", THIRD, hour=2)
    return {
        "envs": envs,
        "job1": tmp_path / "job1",
        "job2": tmp_path / "job2",
        "job3": tmp_path / "job3",
    }


def publish(
    *args: str, reports: Path, envs: Path, cwd: Path = ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    """`releasegate report publish ... --reports-dir REPORTS --no-allure` in a subprocess."""
    argv = [sys.executable, "-m", "releasegate", "report", "publish", *args]
    argv += ["--reports-dir", str(reports), "--no-allure"]
    return subprocess.run(
        argv,
        cwd=cwd,
        env=gate_env({"RELEASEGATE_ENV_DIR": str(envs), **env}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line_error(ran: subprocess.CompletedProcess[str]) -> str:
    """The error of a command that failed as it should: exit 3, one line, no traceback."""
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert lines[0].startswith("releasegate: error: ")
    return lines[0]


# --- S3 --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port, for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty bucket on the moto server, and a client to look into it."""
    import boto3

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for found in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=found["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_two_jobs_publish_to_one_bucket_and_the_index_lists_both(
    jobs: dict[str, Path], s3_endpoint: str, bucket: Any
) -> None:
    """Two CI jobs, each with one fresh run, publish under one prefix: both runs' pages are
    there, every object has its Content-Type, and the second index lists the first run too."""
    first = publish(
        "--to",
        f"s3://{BUCKET}/gates",
        "--endpoint-url",
        s3_endpoint,
        reports=jobs["job1"],
        envs=jobs["envs"],
        **AWS_ENV,
    )
    # the second job names the server the way boto3 itself reads it
    second = publish(
        "--to",
        f"s3://{BUCKET}/gates/",
        reports=jobs["job2"],
        envs=jobs["envs"],
        AWS_ENDPOINT_URL=s3_endpoint,
        **AWS_ENV,
    )

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == f"published: s3://{BUCKET}/gates/index.html"
    keys = {o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {
        "gates/index.html",
        "gates/site.json",
        f"gates/runs/{FIRST}/index.html",
        f"gates/runs/{SECOND}/index.html",
        f"gates/runs/{SECOND}/results.json",
    } <= keys
    index = bucket.get_object(Bucket=BUCKET, Key="gates/index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    manifest = bucket.head_object(Bucket=BUCKET, Key="gates/site.json")
    assert manifest["ContentType"] == "application/json"
    screenshot = next(
        k for k in keys if k.startswith(f"gates/runs/{FIRST}/") and k.endswith(".png")
    )
    assert bucket.head_object(Bucket=BUCKET, Key=screenshot)["ContentType"] == "image/png"
    page = index["Body"].read().decode()
    assert f"runs/{FIRST}/index.html" in page
    assert f"runs/{SECOND}/index.html" in page


def test_a_missing_bucket_is_one_line(jobs: dict[str, Path], s3_endpoint: str) -> None:
    ran = publish(
        "--to",
        "s3://no-such-bucket/gates",
        "--endpoint-url",
        s3_endpoint,
        reports=jobs["job1"],
        envs=jobs["envs"],
        **AWS_ENV,
    )

    line = one_line_error(ran)
    assert "s3://no-such-bucket/gates/site.json" in line
    assert "NoSuchBucket" in line
    assert "create the bucket" in line


def test_an_endpoint_that_does_not_answer_is_one_line(jobs: dict[str, Path]) -> None:
    from tests.tls_server import unused_port

    ran = publish(
        "--to",
        f"s3://{BUCKET}",
        "--endpoint-url",
        f"http://127.0.0.1:{unused_port()}",
        reports=jobs["job1"],
        envs=jobs["envs"],
        AWS_MAX_ATTEMPTS="1",
        **AWS_ENV,
    )

    line = one_line_error(ran)
    assert "cannot reach the S3 endpoint" in line
    assert "--endpoint-url" in line


# --- gh-pages --------------------------------------------------------------------------------


GIT = shutil.which("git")


def git(*args: str, cwd: Path) -> str:
    assert GIT is not None
    ran = subprocess.run(
        [GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    return ran.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An application's repository: a commit on main, pushed to a bare `origin`; git's
    configuration is the test's own (HOME), with no identity, as on a CI runner."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    origin = tmp_path / "origin.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=tmp_path)
    app = tmp_path / "app"
    git("init", "--quiet", "--initial-branch=main", str(app), cwd=tmp_path)
    (app / "README.md").write_text("the application\n")
    git("add", "README.md", cwd=app)
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    git(*identity, "commit", "--quiet", "-m", "first", cwd=app)
    git("remote", "add", "origin", str(origin), cwd=app)
    git("push", "--quiet", "origin", "main", cwd=app)
    return app


def branch_files(repo: Path, ref: str = "gh-pages") -> set[str]:
    return set(git("ls-tree", "-r", "--name-only", ref, cwd=repo).splitlines())


def untouched(repo: Path) -> None:
    """The user's working tree, index and current branch are as they were."""
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("symbolic-ref", "HEAD", cwd=repo) == "refs/heads/main"
    assert len(git("worktree", "list", "--porcelain", cwd=repo).split("\n\n")) == 1
    assert sorted(p.name for p in repo.iterdir()) == [".git", "README.md"]


def test_a_run_a_concurrent_publish_left_out_of_the_bucket_index_is_listed_again(
    jobs: dict[str, Path], s3_endpoint: str, bucket: Any
) -> None:
    """The first job's entry is lost from site.json (two publishes at once: here the object is
    deleted); its folder is listed in the bucket and keeps its summary, so the next publish
    indexes it again."""
    to = ("--to", f"s3://{BUCKET}/gates", "--endpoint-url", s3_endpoint)
    first = publish(*to, reports=jobs["job1"], envs=jobs["envs"], **AWS_ENV)
    bucket.delete_object(Bucket=BUCKET, Key="gates/site.json")
    second = publish(*to, reports=jobs["job2"], envs=jobs["envs"], **AWS_ENV)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "listed again" in second.stderr
    page = bucket.get_object(Bucket=BUCKET, Key="gates/index.html")["Body"].read().decode()
    assert f"runs/{FIRST}/index.html" in page
    assert f"runs/{SECOND}/index.html" in page


def test_gh_pages_commits_the_site_without_touching_the_working_tree(
    repo: Path, jobs: dict[str, Path]
) -> None:
    """An orphan gh-pages with the site and .nojekyll; then a second publish adds a commit
    on it that keeps the first run's folder; main, the index and the files stay as they were."""
    first = publish("--to", "gh-pages", reports=jobs["job1"], envs=jobs["envs"], cwd=repo)

    assert first.returncode == 0, first.stderr
    sha = git("rev-parse", "--short", "gh-pages", cwd=repo)
    assert first.stdout.strip() == f"published: branch gh-pages at {sha}"
    files = branch_files(repo)
    assert {".nojekyll", "index.html", "site.json", f"runs/{FIRST}/index.html"} <= files
    assert "README.md" not in files  # an orphan: none of main's files
    assert git("rev-list", "--count", "gh-pages", cwd=repo) == "1"
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=repo) == (
        f"releasegate report: 1 run, newest {FIRST} GO"
    )
    untouched(repo)

    second = publish("--to", "gh-pages", reports=jobs["job2"], envs=jobs["envs"], cwd=repo)

    assert second.returncode == 0, second.stderr
    files = branch_files(repo)
    assert {f"runs/{FIRST}/index.html", f"runs/{SECOND}/index.html", ".nojekyll"} <= files
    assert f"runs/{FIRST}/summary.json" in files  # read back should site.json lose the run
    assert git("rev-list", "--count", "gh-pages", cwd=repo) == "2"
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=repo) == (
        f"releasegate report: 2 runs, newest {SECOND} ROLLBACK"
    )
    index = git("show", "gh-pages:index.html", cwd=repo)
    assert f"runs/{FIRST}/index.html" in index
    assert f"runs/{SECOND}/index.html" in index
    untouched(repo)
    assert "gh-pages" not in git("ls-remote", "--heads", "origin", cwd=repo)  # no --push


def test_push_puts_the_branch_in_origin_and_a_fresh_checkout_builds_on_it(
    repo: Path, jobs: dict[str, Path], tmp_path: Path
) -> None:
    """`--push`: origin gets the branch. A CI job's fresh clone has no local gh-pages: it
    fetches origin's, publishes on top of it (keeping the earlier runs) and pushes again."""
    pushed = publish(
        "--to", "gh-pages", "--push", reports=jobs["job1"], envs=jobs["envs"], cwd=repo
    )

    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.strip().endswith(", pushed to origin")
    origin = tmp_path / "origin.git"
    assert git("rev-parse", "gh-pages", cwd=origin) == git("rev-parse", "gh-pages", cwd=repo)
    untouched(repo)

    clone = tmp_path / "ci-checkout"
    git("clone", "--quiet", "--branch", "main", str(origin), str(clone), cwd=tmp_path)
    again = publish(
        "--to", "gh-pages", "--push", reports=jobs["job3"], envs=jobs["envs"], cwd=clone
    )

    assert again.returncode == 0, again.stderr
    assert git("rev-list", "--count", "gh-pages", cwd=origin) == "2"
    files = branch_files(origin)
    assert {f"runs/{FIRST}/index.html", f"runs/{THIRD}/index.html"} <= files
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=origin) == (
        f"releasegate report: 2 runs, newest {THIRD} GO"
    )
    assert git("status", "--porcelain", cwd=clone) == ""


def test_an_interrupted_gh_pages_publish_leaves_nothing_behind(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the commit is made: no branch, no worktree, no temporary index, the
    working tree as it was."""
    from releasegate.report.publish import GhPagesDestination

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>gates</h1>")
    destination = GhPagesDestination(cwd=repo)
    real_run = destination._run

    def interrupted(args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        if args[0] == "commit-tree":
            raise KeyboardInterrupt
        return real_run(args, **kwargs)

    monkeypatch.setattr(destination, "_run", interrupted)

    with pytest.raises(KeyboardInterrupt):
        destination.upload(site)

    assert git("branch", "--list", "gh-pages", cwd=repo) == ""
    assert list(scratch.iterdir()) == []
    untouched(repo)


def test_gh_pages_refuses_the_branch_checked_out_here(repo: Path, jobs: dict[str, Path]) -> None:
    git("checkout", "--quiet", "--orphan", "gh-pages", cwd=repo)

    line = one_line_error(
        publish("--to", "gh-pages", reports=jobs["job1"], envs=jobs["envs"], cwd=repo)
    )

    assert "the branch gh-pages is checked out" in line


def test_gh_pages_outside_a_repository_is_one_line(jobs: dict[str, Path], tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()

    line = one_line_error(
        publish(
            "--to",
            "gh-pages",
            reports=jobs["job1"],
            envs=jobs["envs"],
            cwd=outside,
            GIT_CEILING_DIRECTORIES=str(tmp_path),
        )
    )

    assert f"{outside} is not in a git repository" in line


def test_a_push_origin_refuses_is_one_line(repo: Path, jobs: dict[str, Path]) -> None:
    git("remote", "set-url", "origin", str(repo.parent / "gone.git"), cwd=repo)

    line = one_line_error(
        publish("--to", "gh-pages", "--push", reports=jobs["job1"], envs=jobs["envs"], cwd=repo)
    )

    assert "cannot ask origin for gh-pages" in line
    assert "--push needs a remote named origin" in line
    assert "gh-pages" not in git("branch", "--list", cwd=repo)  # nothing committed


# --- the command's other errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "said"),
    [
        ("https://pages.example/", "https:// is not supported"),
        ("s3://", "no bucket named"),
        ("gh-pages:", "is no branch name"),
    ],
)
def test_a_bad_to_is_one_line(jobs: dict[str, Path], to: str, said: str) -> None:
    line = one_line_error(publish("--to", to, reports=jobs["job1"], envs=jobs["envs"]))

    assert said in line


def test_s3_without_boto3_is_one_line(jobs: dict[str, Path]) -> None:
    """As where the `s3` extra is not installed: `import boto3` fails."""
    code = (
        "import sys; sys.modules['boto3'] = None; from releasegate.cli.main import main;"
        " main(sys.argv[1:])"
    )
    ran = subprocess.run(
        [
            *(sys.executable, "-c", code, "report", "publish", "--to", f"s3://{BUCKET}/gates"),
            *("--reports-dir", str(jobs["job1"]), "--no-allure"),
        ],
        cwd=ROOT,
        env=gate_env({"RELEASEGATE_ENV_DIR": str(jobs["envs"]), **AWS_ENV}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    line = one_line_error(ran)
    assert line == "releasegate: error: s3 publishing needs boto3: pip install 'releasegate[s3]'"


def test_without_a_reports_folder_nothing_is_published(tmp_path: Path) -> None:
    line = one_line_error(
        publish("--to", str(tmp_path / "www"), reports=tmp_path / "none", envs=tmp_path)
    )

    assert "no reports folder" in line
    assert not (tmp_path / "www").exists()


def test_a_folder_destination_from_the_command(jobs: dict[str, Path], tmp_path: Path) -> None:
    www = tmp_path / "www"

    ran = publish("--to", str(www), reports=jobs["job1"], envs=jobs["envs"])

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"published: {www}"
    assert (www / "runs" / FIRST / "index.html").is_file()
    assert os.access(www / "index.html", os.R_OK)
