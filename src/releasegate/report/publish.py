"""`releasegate report publish --to DEST`: a built report site sent where stakeholders read it.

Three destinations, parsed from the `--to` text by `parse_destination`:

    DIR                    a folder (relative or absolute), each file written atomically
    s3://BUCKET[/PREFIX]   objects in a bucket through boto3 (the `s3` extra), each with its
                           Content-Type; credentials and region from boto3's usual chain
    gh-pages[:BRANCH]      a commit on the branch `gh-pages` of the git repository the command
                           runs in, made with git plumbing and a temporary index file: the
                           working tree, the index and the current branch are never touched

Each offers `read_text(path)` (the published `site.json`, read before the site is built so the
runs other CI jobs published join the new index) and `upload(site_dir)`, which writes every file
of the new site over the published one and deletes nothing: runs published from other
machines stay. The pages a reader opens first (the root `index.html`, and `site.json`, which the
next publish reads) are written last, so no index links to a page not yet there.

Every failure is a `PublishFailed`: one line with what went wrong, where, and what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from releasegate.errors import PublishFailed, SiteManifestUnreadable
from releasegate.evidence.runs import check_run_id
from releasegate.outcome import Verdict
from releasegate.report.site import build_site
from releasegate.report.summary import (
    RUN_SUMMARY,
    SITE_MANIFEST,
    RunSummary,
    SiteManifest,
    read_manifest,
)

GH_PAGES = "gh-pages"
NO_JEKYLL = ".nojekyll"  # GitHub Pages serves the files as they are (folders like _x too)
FORMS = "a folder, s3://BUCKET/PREFIX or gh-pages[:BRANCH]"
S3_EXTRA_HINT = "s3 publishing needs boto3: pip install 'releasegate[s3]'"
GIT_TIMEOUT_S = 120.0
PUSH_TIMEOUT_S = 600.0
# runs found published but missing from site.json, read back per publish at most
MAX_RECOVERED = 200

# what a static host should send with each kind of file (the system's mime.types differ from
# machine to machine, so the site's own kinds are listed here)
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".json": "application/json",
    ".har": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".zip": "application/zip",
    ".xml": "application/xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".jsonl": "application/x-ndjson",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
}
# the pages that change on every publish: a browser or CDN asks again rather than cache them
_FRESH = {"index.html", SITE_MANIFEST}

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_BRANCH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")


def content_type(name: str) -> str:
    """The Content-Type a file of this name is served with."""
    return _CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


class Destination(Protocol):
    """Where a site is published: read a published file back, write a new site over it."""

    def read_text(self, relative_path: str) -> str | None:
        """The text of a published file (`site.json`), None when there is none."""
        ...

    def upload(self, site_dir: Path) -> str:
        """Write every file of `site_dir` there (overwriting, never deleting); say where."""
        ...

    def run_ids(self) -> set[str]:
        """The run folders published under `runs/` (whatever site.json lists)."""
        ...


def upload_order(site_dir: Path) -> list[str]:
    """The site's files (relative POSIX paths) in the order they are written: the run pages
    first (the rest links to them), deeper files before the pages that link to them, each
    folder's index.html after its other files, and the root's `site.json` and `index.html`
    last. Symbolic links are left out: a site holds only files it made."""
    found: list[str] = []
    for folder, dirs, files in os.walk(site_dir):
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(site_dir).as_posix())

    def key(relative: str) -> tuple[int, int, bool, str]:
        parts = relative.split("/")
        if relative == SITE_MANIFEST:
            group = 3
        elif relative == "index.html":
            group = 4
        else:
            group = 0 if parts[0] == "runs" else 1
        return group, -len(parts), parts[-1] == "index.html", relative

    return sorted(found, key=key)


def _safe_relative(relative_path: str) -> str:
    """A path inside the site, as POSIX text; one that could leave it is refused."""
    path = PurePosixPath(relative_path)
    if not relative_path or path.is_absolute() or ".." in path.parts:
        raise PublishFailed(f"{relative_path!r}: not a path inside the site")
    return path.as_posix()


def _last_line(text: str) -> str:
    """The last line a tool printed (git's `fatal: ...`), the one that says why."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# --- a folder ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryDestination:
    """A folder a web server (or a person) reads; each file replaced by a rename, so a reader
    or an interrupted publish never sees half a file."""

    root: Path

    def read_text(self, relative_path: str) -> str | None:
        path = self.root / _safe_relative(relative_path)
        try:
            return path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except UnicodeDecodeError:
            raise PublishFailed(
                f"{path}: not UTF-8 text (a published {relative_path} is releasegate's own)"
            ) from None
        except OSError as exc:
            raise PublishFailed(f"{path}: cannot read it: {exc.strerror or exc}") from None

    def run_ids(self) -> set[str]:
        try:
            return {p.name for p in (self.root / "runs").iterdir() if p.is_dir()}
        except (FileNotFoundError, NotADirectoryError):
            return set()
        except OSError as exc:
            raise PublishFailed(
                f"{self.root / 'runs'}: cannot list it: {exc.strerror or exc}"
            ) from None

    def upload(self, site_dir: Path) -> str:
        # mkstemp makes files private (0600); a web server reads them as another user
        umask = os.umask(0o022)
        os.umask(umask)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for relative in upload_order(site_dir):
                _copy_atomically(site_dir / relative, self.root / relative, 0o666 & ~umask)
        except OSError as exc:
            where = exc.filename or self.root
            raise PublishFailed(
                f"{where}: cannot write the site there: {exc.strerror or exc}"
                " (publish to a folder you can write to)"
            ) from None
        return str(self.root)


def _copy_atomically(source: Path, target: Path, mode: int) -> None:
    """Copy `source` to a temporary file beside `target`, then rename it over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle, source.open("rb") as data:
            while chunk := data.read(1 << 20):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- S3 -------------------------------------------------------------------------------------


def _boto3() -> Any:
    """boto3, imported on first use: it is the optional `s3` extra."""
    try:
        import boto3
    except ImportError:
        raise PublishFailed(S3_EXTRA_HINT) from None
    return boto3


@dataclass
class S3Destination:
    """Objects under `s3://bucket/prefix/`, through boto3: credentials and region come from its
    usual chain (variables, profiles, roles); `endpoint_url` (or boto3's AWS_ENDPOINT_URL) points
    it at an S3-compatible server, spoken to path-style."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    _client: Any = field(default=None, init=False, repr=False, compare=False)

    def key(self, relative_path: str) -> str:
        return f"{self.prefix}/{relative_path}" if self.prefix else relative_path

    def url(self, relative_path: str) -> str:
        return f"s3://{self.bucket}/{self.key(relative_path)}"

    def client(self) -> Any:
        if self._client is None:
            boto3 = _boto3()
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError

            options: dict[str, Any] = {"connect_timeout": 10, "read_timeout": 60}
            if self.endpoint_url:
                # S3-compatible servers (MinIO, Ceph, moto) name the bucket in the path; a
                # bucket.host name would not resolve
                options["s3"] = {"addressing_style": "path"}
            try:
                self._client = boto3.client(
                    "s3", endpoint_url=self.endpoint_url or None, config=Config(**options)
                )
            except (BotoCoreError, ValueError) as exc:
                raise PublishFailed(
                    f"s3://{self.bucket}: cannot set up an S3 client: {_last_line(str(exc))}"
                    " (check AWS_REGION, AWS_PROFILE and --endpoint-url)"
                ) from None
        return self._client

    def _failed(self, exc: Exception, what: str, relative_path: str) -> PublishFailed:
        """One line for a boto3 error, with what to do about it."""
        from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

        where = self.url(relative_path)
        if isinstance(exc, NoCredentialsError):
            return PublishFailed(
                f"{where}: no AWS credentials found (set AWS_ACCESS_KEY_ID and"
                " AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the job a role)"
            )
        if isinstance(exc, EndpointConnectionError):
            return PublishFailed(
                f"{where}: cannot reach the S3 endpoint: {_last_line(str(exc))}"
                " (check --endpoint-url, AWS_ENDPOINT_URL and AWS_REGION)"
            )
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "?"))
            message = str(error.get("Message") or code)
            hint = {
                "NoSuchBucket": "create the bucket, or check its name and the endpoint",
                "AccessDenied": "the credentials need s3:GetObject, s3:PutObject and"
                " s3:ListBucket on it",
                "InvalidAccessKeyId": "check AWS_ACCESS_KEY_ID, or the profile in use",
                "SignatureDoesNotMatch": "check AWS_SECRET_ACCESS_KEY, or the profile in use",
                "ExpiredToken": "the session token expired: get new credentials",
                "PermanentRedirect": "the bucket is in another region: set AWS_REGION",
                "AuthorizationHeaderMalformed": "set AWS_REGION to the bucket's region",
            }.get(code, "check the bucket, the credentials and the region")
            return PublishFailed(f"{where}: {what} refused: {code}: {message} ({hint})")
        return PublishFailed(
            f"{where}: {what} failed: {_last_line(str(exc))}"
            " (check the bucket, the credentials and the endpoint)"
        )

    def read_text(self, relative_path: str) -> str | None:
        relative = _safe_relative(relative_path)
        client = self.client()  # first: without boto3, its one line
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = client.get_object(Bucket=self.bucket, Key=self.key(relative))
            body: bytes = answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._failed(exc, "reading", relative) from None
        except BotoCoreError as exc:
            raise self._failed(exc, "reading", relative) from None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise PublishFailed(f"{self.url(relative)}: not UTF-8 text") from None

    def run_ids(self) -> set[str]:
        client = self.client()
        from botocore.exceptions import BotoCoreError, ClientError

        folder = self.key("runs/")
        found: set[str] = set()
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    found.add(str(common["Prefix"])[len(folder) :].rstrip("/"))
        except (BotoCoreError, ClientError) as exc:
            raise self._failed(exc, "listing", "runs/") from None
        return {name for name in found if name}

    def upload(self, site_dir: Path) -> str:
        client = self.client()  # first: without boto3, its one line
        from botocore.exceptions import BotoCoreError, ClientError

        for relative in upload_order(site_dir):
            extra = {"CacheControl": "no-cache"} if relative in _FRESH else {}
            try:
                with (site_dir / relative).open("rb") as body:
                    client.put_object(
                        Bucket=self.bucket,
                        Key=self.key(relative),
                        Body=body,
                        ContentType=content_type(relative),
                        **extra,
                    )
            except (BotoCoreError, ClientError) as exc:
                raise self._failed(exc, "upload", relative) from None
        return self.url("index.html")


# --- gh-pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tips:
    """The commits the new one is made on: `base` its parent (None: an orphan), `local` the
    branch as it is here (the value `update-ref` checks it still has)."""

    base: str | None
    local: str | None


@dataclass
class GhPagesDestination:
    """A commit on a branch (`gh-pages`) of the git repository `cwd` is in, made with git's
    plumbing: the site's files are written as objects, laid over the branch's tree in a
    temporary index file, committed with the branch's tip as parent (none: a new orphan
    branch), and the branch moved only if it still points where it did. Nothing else of the
    repository changes, and an interruption leaves at most unreferenced objects. With `push`,
    origin's branch is fetched first (a CI checkout has no local one) and pushed after."""

    branch: str = GH_PAGES
    push: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    remote: str = "origin"
    _tips: _Tips | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}"

    # -- running git --

    def _run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes = b"",
        env: dict[str, str] | None = None,
        timeout_s: float = GIT_TIMEOUT_S,
    ) -> subprocess.CompletedProcess[bytes]:
        git = shutil.which("git")
        if git is None:
            raise PublishFailed("gh-pages: git is not installed (install git, or publish --to DIR)")
        environ = {k: v for k, v in os.environ.items() if k != "GIT_INDEX_FILE"}
        environ["GIT_TERMINAL_PROMPT"] = "0"  # a push without credentials fails, never asks
        environ.update(env or {})
        try:
            return subprocess.run(
                [git, *args],
                cwd=self.cwd,
                input=stdin,
                capture_output=True,
                env=environ,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PublishFailed(
                f"gh-pages: `git {args[0]}` in {self.cwd} did not finish in {timeout_s:.0f} s"
                " (is the remote reachable?)"
            ) from None
        except OSError as exc:
            raise PublishFailed(f"gh-pages: cannot run git in {self.cwd}: {exc}") from None

    def _git(
        self,
        *args: str,
        stdin: bytes = b"",
        env: dict[str, str] | None = None,
        hint: str = "see git's message",
        timeout_s: float = GIT_TIMEOUT_S,
    ) -> str:
        """Run git; its output, stripped; a failure is one line with git's last word."""
        ran = self._run(args, stdin=stdin, env=env, timeout_s=timeout_s)
        if ran.returncode != 0:
            said = _last_line(ran.stderr.decode("utf-8", "replace"))
            raise PublishFailed(f"gh-pages: `git {args[0]}` failed in {self.cwd}: {said} ({hint})")
        return ran.stdout.decode("utf-8", "replace").strip()

    def _commit_of(self, ref: str) -> str | None:
        ran = self._run(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        return ran.stdout.decode().strip() if ran.returncode == 0 else None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self._run(["merge-base", "--is-ancestor", older, newer]).returncode == 0

    # -- where the branch is --

    def _check_repository(self) -> None:
        if not self.cwd.is_dir():
            raise PublishFailed(f"gh-pages: {self.cwd} is not a folder")
        ran = self._run(["rev-parse", "--git-dir"])
        if ran.returncode != 0:
            raise PublishFailed(
                f"gh-pages: {self.cwd} is not in a git repository (run the command in the"
                " repository's checkout, or publish --to DIR or s3://BUCKET/PREFIX)"
            )
        if self._run(["check-ref-format", self.ref]).returncode != 0:
            raise PublishFailed(f"gh-pages: {self.branch!r} is no branch name git accepts")
        if self._checked_out_here():
            raise PublishFailed(
                f"gh-pages: the branch {self.branch} is checked out in a working tree of"
                f" {self.cwd} (switch that tree to another branch, then publish again)"
            )

    def _remote_tip(self) -> str | None:
        """Fetch origin's branch, when it has one; its commit."""
        found = self._run(
            ["ls-remote", "--exit-code", "--heads", self.remote, self.ref],
            timeout_s=PUSH_TIMEOUT_S,
        )
        if found.returncode == 2:  # the remote answered and has no such branch
            return None
        if found.returncode != 0:
            said = _last_line(found.stderr.decode("utf-8", "replace"))
            raise PublishFailed(
                f"gh-pages: cannot ask {self.remote} for {self.branch} from {self.cwd}: {said}"
                f" (--push needs a remote named {self.remote} this job can reach and read)"
            )
        tracking = f"refs/remotes/{self.remote}/{self.branch}"
        self._git(
            "fetch",
            "--quiet",
            "--no-tags",
            self.remote,
            f"+{self.ref}:{tracking}",
            hint=f"--push needs {self.remote}'s {self.branch} fetched first",
            timeout_s=PUSH_TIMEOUT_S,
        )
        return self._commit_of(tracking)

    def tips(self) -> _Tips:
        """The parent of the next commit (resolved once: read_text and upload agree)."""
        if self._tips is not None:
            return self._tips
        self._check_repository()
        local = self._commit_of(self.ref)
        base = local
        if self.push:
            remote = self._remote_tip()
            if remote is not None:
                if local is None or self._is_ancestor(local, remote):
                    base = remote
                elif not self._is_ancestor(remote, local):
                    raise PublishFailed(
                        f"gh-pages: the branch {self.branch} in {self.cwd} and {self.remote}'s"
                        " have diverged (delete the local one, `git branch -D"
                        f" {self.branch}`, to publish on top of {self.remote}'s)"
                    )
        self._tips = _Tips(base, local)
        return self._tips

    def read_text(self, relative_path: str) -> str | None:
        relative = _safe_relative(relative_path)
        base = self.tips().base
        if base is None:
            return None
        blob = self._run(["rev-parse", "--verify", "--quiet", f"{base}:{relative}"])
        if blob.returncode != 0:
            return None
        data = self._run(["cat-file", "blob", blob.stdout.decode().strip()])
        if data.returncode != 0:  # a folder of that name, not a file
            return None
        try:
            return data.stdout.decode("utf-8")
        except UnicodeDecodeError:
            raise PublishFailed(
                f"gh-pages: {relative} on {self.branch} in {self.cwd} is not UTF-8 text"
            ) from None

    def run_ids(self) -> set[str]:
        base = self.tips().base
        if base is None:
            return set()
        listed = self._run(["ls-tree", "--name-only", "-d", f"{base}:runs"])
        if listed.returncode != 0:  # no runs/ folder on the branch yet
            return set()
        return {line for line in listed.stdout.decode("utf-8", "replace").splitlines() if line}

    # -- publishing --

    def _checked_out_here(self) -> bool:
        listed = self._git("worktree", "list", "--porcelain")
        return f"branch {self.ref}" in listed.splitlines()

    def _identity(self) -> dict[str, str]:
        """A committer for machines with no git identity (a CI runner): releasegate's."""
        if self._run(["var", "GIT_COMMITTER_IDENT"]).returncode == 0:
            return {}
        name, email = "releasegate", "releasegate@localhost"
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }

    def _tree(self, site_dir: Path, base: str | None, index: Path) -> str:
        """The base's tree with every file of the site laid over it, and `.nojekyll`."""
        files = upload_order(site_dir)
        broken = [f for f in files if "\n" in f or "\0" in f]
        if broken:
            raise PublishFailed(f"gh-pages: cannot commit a file named {broken[0]!r}")
        with_index = {"GIT_INDEX_FILE": str(index)}
        if base is not None:
            self._git("read-tree", base, env=with_index)
        paths = "".join(f"{site_dir / f}\n" for f in files).encode()
        blobs = self._git("hash-object", "-w", "--no-filters", "--stdin-paths", stdin=paths)
        empty = self._git("hash-object", "-w", "--stdin")  # .nojekyll
        entries = [*zip(blobs.split(), files, strict=True), (empty, NO_JEKYLL)]
        records = b"".join(f"100644 {sha}\t{path}".encode() + b"\0" for sha, path in entries)
        self._git(
            "update-index",
            "--add",
            "--replace",
            "-z",
            "--index-info",
            stdin=records,
            env=with_index,
        )
        return self._git("write-tree", env=with_index)

    def upload(self, site_dir: Path) -> str:
        tips = self.tips()
        with tempfile.TemporaryDirectory(prefix="releasegate-publish-") as scratch:
            tree = self._tree(site_dir, tips.base, Path(scratch) / "index")
        parent = ["-p", tips.base] if tips.base else []
        commit = self._git(
            "commit-tree",
            tree,
            *parent,
            "-m",
            commit_message(site_dir),
            env=self._identity(),
        )
        # Ctrl-C and SIGTERM wait for this one short step (git inherits the blocked signals
        # too), so an interrupt never kills git while it holds the branch's lock file
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self._git(
                "update-ref",
                "-m",
                "releasegate report publish",
                self.ref,
                commit,
                tips.local or "",  # the branch must still be where it was ("": not there)
                hint=f"{self.branch} moved while publishing: publish again",
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        short = self._git("rev-parse", "--short", commit)
        if not self.push:
            return f"branch {self.branch} at {short}"
        self._git(
            "push",
            "--quiet",
            self.remote,
            f"{self.ref}:{self.ref}",
            hint=f"{self.remote}'s {self.branch} changed meanwhile (publish again), or the job"
            " may not push (GitHub Actions: permissions: contents: write)",
            timeout_s=PUSH_TIMEOUT_S,
        )
        return f"branch {self.branch} at {short}, pushed to {self.remote}"


# --- the commit message -----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSummary:
    """How many runs a built site lists, and its newest run with its verdict."""

    runs: int
    newest: str | None
    verdict: str | None


def _verdict(text: object) -> str | None:
    return text if isinstance(text, str) and text in Verdict.__members__ else None


def _run_id(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return check_run_id(text)
    except ValueError:
        return None


def _from_manifest(text: str) -> SiteSummary | None:
    """The summary from the site's `site.json` (None when it cannot be read)."""
    try:
        runs = read_manifest(text, SITE_MANIFEST)
    except SiteManifestUnreadable:
        return None
    if not runs:
        return SiteSummary(0, None, None)
    newest = max(runs, key=lambda r: r.sort_key)
    return SiteSummary(len(runs), _run_id(newest.run_id), _verdict(newest.verdict))


_LINKED_RUN = re.compile(r'href="runs/([^/"]+)/index\.html"')
_PAGE_VERDICT = re.compile(r'data-verdict="([A-Z]+)"')


def _from_pages(site_dir: Path) -> SiteSummary:
    """The summary from the pages: the runs the index links (newest first), else the run
    folders, and the verdict on the newest run's page."""
    try:
        index = (site_dir / "index.html").read_text(encoding="utf-8")
    except OSError:
        index = ""
    linked = list(dict.fromkeys(r for r in _LINKED_RUN.findall(index) if _run_id(r)))
    if not linked and (site_dir / "runs").is_dir():
        folders = (p.name for p in (site_dir / "runs").iterdir() if p.is_dir())
        linked = sorted((r for r in folders if _run_id(r)), reverse=True)
    if not linked:
        return SiteSummary(0, None, None)
    try:
        page = (site_dir / "runs" / linked[0] / "index.html").read_text(encoding="utf-8")
    except OSError:
        page = ""
    shown = _PAGE_VERDICT.search(page)
    return SiteSummary(len(linked), linked[0], _verdict(shown.group(1)) if shown else None)


def site_summary(site_dir: Path) -> SiteSummary:
    """The runs of a built site: from its `site.json`, else from its pages."""
    try:
        manifest = (site_dir / SITE_MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        manifest = None
    summary = _from_manifest(manifest) if manifest is not None else None
    return summary or _from_pages(site_dir)


def commit_message(site_dir: Path) -> str:
    """`releasegate report: 3 runs, newest 20261122T230102Z-prod-3f2a GO`: only a count, a run
    id (a folder name of the masked site) and a verdict word, so no secret can be in it."""
    summary = site_summary(site_dir)
    runs = f"{summary.runs} run" + ("" if summary.runs == 1 else "s")
    if summary.newest is None:
        return f"releasegate report: {runs}"
    return f"releasegate report: {runs}, newest {summary.newest} {summary.verdict or 'unknown'}"


# --- parsing --to ---------------------------------------------------------------------------


def _s3(text: str, endpoint_url: str | None) -> S3Destination:
    rest = text.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if not bucket:
        raise PublishFailed(f"--to {text}: no bucket named (s3://BUCKET/PREFIX)")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise PublishFailed(
            f"--to {text}: {bucket!r} is no S3 bucket name (3-63 lowercase letters, digits,"
            " dots and hyphens)"
        )
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise PublishFailed(f"--to {text}: the prefix {prefix!r} has an empty, . or .. part")
    return S3Destination(bucket, prefix, endpoint_url)


def _gh_pages(text: str, push: bool, cwd: Path | None) -> GhPagesDestination:
    _, colon, named = text.partition(":")
    branch = named if colon else GH_PAGES
    if (
        not _BRANCH.match(branch)
        or ".." in branch
        or "//" in branch
        or branch.endswith(("/", ".lock", "."))
    ):
        raise PublishFailed(f"--to {text}: {branch!r} is no branch name (gh-pages:BRANCH)")
    return GhPagesDestination(branch, push, cwd or Path.cwd())


def parse_destination(
    text: str,
    *,
    endpoint_url: str | None = None,
    push: bool = False,
    cwd: Path | None = None,
) -> Destination:
    """The destination `--to` names: `s3://BUCKET[/PREFIX]`, `gh-pages[:BRANCH]` (of the
    repository `cwd` is in), any other text a folder (`./gh-pages` is a folder of that name).
    `endpoint_url` applies to s3 only, `push` to gh-pages only."""
    text = text.strip()
    if not text:
        raise PublishFailed(f"--to is empty; use {FORMS}")
    scheme = _SCHEME.match(text)
    kind = "s3" if scheme and scheme.group(1).lower() == "s3" else None
    if scheme and kind is None:
        raise PublishFailed(f"--to {text}: {scheme.group(1)}:// is not supported; use {FORMS}")
    if kind is None and (text == GH_PAGES or text.startswith(f"{GH_PAGES}:")):
        kind = "gh-pages"
    if endpoint_url is not None and kind != "s3":
        raise PublishFailed(f"--endpoint-url applies to --to s3://BUCKET only, not {text}")
    if push and kind != "gh-pages":
        raise PublishFailed(f"--push applies to --to gh-pages only, not {text}")
    if kind == "s3":
        return _s3(text, endpoint_url)
    if kind == "gh-pages":
        return _gh_pages(text, push, cwd)
    root = Path(text).expanduser()
    if not root.is_absolute():
        root = (cwd or Path.cwd()) / root
    if root.exists() and not root.is_dir():
        raise PublishFailed(f"--to {text}: {root} is a file, not a folder (name a folder)")
    return DirectoryDestination(root)


# --- the whole command ------------------------------------------------------------------------


def _published_history(destination: Destination, on_note: Callable[[str], None]) -> str | None:
    """The published site.json, with the runs it lost added back: two jobs publishing at once
    each write a site.json without the other's run, but every run's folder keeps its own
    summary (`runs/<id>/summary.json`), so the next publish lists the lost run again."""
    published = destination.read_text(SITE_MANIFEST)
    runs = read_manifest(published, f"published {SITE_MANIFEST}") if published else []
    listed = {r.run_id for r in runs}
    recovered: list[RunSummary] = []
    for run_id in sorted(destination.run_ids() - listed)[-MAX_RECOVERED:]:
        where = f"runs/{run_id}/{RUN_SUMMARY}"
        try:
            text = destination.read_text(where)
        except PublishFailed:
            text = None
        if text is None:
            continue  # published before runs kept their summary: its page stays, unlisted
        try:
            recovered.append(RunSummary.model_validate_json(text))
        except ValueError:
            on_note(f"{where}: not a run summary; that run stays out of the index")
    if not recovered:
        return published
    on_note(
        f"{len(recovered)} published run(s) missing from {SITE_MANIFEST} (another publish at the"
        " same time) listed again"
    )
    return SiteManifest(runs=[*runs, *recovered]).model_dump_json(by_alias=True)


def publish_site(
    reports_dir: Path,
    destination: Destination,
    *,
    allure: bool = True,
    on_note: Callable[[str], None] = lambda _note: None,
) -> str:
    """Build the site of `reports_dir` in a temporary folder, with the runs already published
    at `destination` (its `site.json`) in its index and history, and upload it there. Returns
    where it went; `on_note` hears the builder's notes (Allure skipped, reports withheld)."""
    published = _published_history(destination, on_note)
    with tempfile.TemporaryDirectory(prefix="releasegate-site-") as scratch:
        built = build_site(
            reports_dir, out=Path(scratch) / "site", allure=allure, published=published
        )
        for note in built.notes:
            on_note(note)
        return destination.upload(built.out)
