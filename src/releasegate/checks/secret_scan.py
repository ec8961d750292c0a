"""Committed secrets in a source tree, found by detect-secrets and reported without their values.

The pre-deploy gate asks one question: did this release add a credential to the repository? The
detectors, filters and baseline format are detect-secrets' own, so a team's existing
`.secrets.baseline` (made with `detect-secrets scan > .secrets.baseline` and audited with
`detect-secrets audit`) means the same thing here as in their pre-commit hook: a secret it lists
is known and suppressed, anything else is reported.

What this module adds around the library is what a gate needs and a pre-commit hook does not:

- Its own walk of the tree, so `.git`, virtualenvs, `node_modules`, binary files and the caller's
  excludes are never read, and a huge tree stops at `max_files` instead of running for an hour.
- No silent gaps: an unreadable file or directory, a missing root, or a baseline that cannot be
  read or enables no detectors raises `SecretScanError` (the gate could not measure: HOLD), where
  the library would log a warning and report "nothing found".
- No secret values anywhere: detect-secrets keeps each plaintext value in memory on its
  `PotentialSecret`; only path, line and detector name leave this module.
- No network: the library's verification filter (on by default in baselines the CLI writes)
  sends candidate credentials to their provider's API to see whether they are live. A gate must
  not hand a leaked key to a third party, and its verdict must not depend on egress, so that
  filter is always switched off; an unverifiable finding is reported.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from detect_secrets.core import baseline as ds_baseline
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.exceptions import InvalidFile, UnableToReadBaselineError
from detect_secrets.settings import default_settings, get_plugins, get_settings, transient_settings

from releasegate.checks.secret_scan_cache import Hit, ScanCache, content_digest, fingerprint
from releasegate.errors import SecretScanError

# Never source: version control internals, installed dependencies and bytecode. Scanning them is
# slow and reports other people's test fixtures as our secrets.
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__"})
# https://bford.info/cachedir/: a directory holding this file is a cache
CACHEDIR_TAG = "CACHEDIR.TAG"

# Bytes read to tell a binary file from text: the heuristic git and grep use (a NUL byte early on).
_SNIFF_BYTES = 8192

_VERIFICATION_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
_FILE_REGEX_FILTER = "detect_secrets.filters.regex.should_exclude_file"

# detect-secrets keeps its plugin and filter settings in one process-wide singleton that
# `transient_settings` swaps in and out; two scans in threads at once would use each other's.
_SETTINGS_LOCK = threading.Lock()


@dataclass(frozen=True, order=True)
class Finding:
    """Where a secret is and which detector saw it; never the value, not even a prefix."""

    path: str
    line: int
    kind: str


@dataclass(frozen=True)
class ScanResult:
    """Everything the gate reports about one scan; `findings` are the new secrets only."""

    root: Path
    files_scanned: int
    findings: tuple[Finding, ...]
    baseline: Path | None
    suppressed: int
    # files read by the detectors this time; the others were unchanged since the cached scan
    files_rescanned: int = 0


def scan_tree(
    root: Path,
    *,
    baseline: Path | None = None,
    exclude: Sequence[str] = (),
    max_files: int = 20_000,
    cache_dir: Path | None = None,
) -> ScanResult:
    """Scan every text file under `root` and report the secrets the baseline does not know.

    Files are scanned one by one in this process: the library's multiprocessing pool would fork
    a test runner or a CLI that already has threads, and one gate run is not worth that risk.
    A secret is known when the baseline lists the same file, hashed value and detector: the
    identity detect-secrets' own hook uses, so baseline paths must be relative to `root`.
    With `cache_dir`, a file whose content is what the last scan under the same baseline read
    is not scanned again (`releasegate.checks.secret_scan_cache`).
    """
    root = root.resolve()
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "does not exist"
        raise SecretScanError(f"secret scan root {root} {what}; check the path to scan")
    baseline = baseline.resolve() if baseline is not None else None

    with _SETTINGS_LOCK, _detectors(baseline) as known:
        files = _files_to_scan(root, exclude, _baseline_file_patterns(), max_files, baseline)
        cache = ScanCache.open(cache_dir, root, fingerprint(baseline))
        # Keyed by the collection's relative file name, not `PotentialSecret` equality: with a
        # `root` the library stores the joined path on each secret, so `found - known` would
        # never match a baseline entry and nothing would ever be suppressed.
        known_keys = {(name, secret.secret_hash, secret.type) for name, secret in known}
        hits: dict[str, list[Hit]] = {}
        rescanned = 0
        for relative in files:
            digest = _digest(root / relative)
            cached = cache.get(relative, digest)
            if cached is None:
                cached = _scan_file(root, relative, known_keys)
                cache.put(relative, digest, cached)
                rescanned += 1
            hits[relative] = cached
        cache.save()

    findings = tuple(
        sorted(
            Finding(Path(name).as_posix(), line, kind)
            for name, found in hits.items()
            for line, kind, is_known in found
            if not is_known
        )
    )
    total = sum(len(found) for found in hits.values())
    return ScanResult(
        root=root,
        files_scanned=len(files),
        findings=findings,
        baseline=baseline,
        suppressed=total - len(findings),
        files_rescanned=rescanned,
    )


def _scan_file(root: Path, relative: str, known_keys: set[tuple[str, str, str]]) -> list[Hit]:
    """One file's findings: line, detector, and whether the baseline knows it."""
    found = SecretsCollection(root=str(root))
    found.scan_file(relative)
    return sorted(
        (secret.line_number, secret.type, (name, secret.secret_hash, secret.type) in known_keys)
        for name, secret in found
    )


def _digest(path: Path) -> str:
    try:
        return content_digest(path)
    except OSError as exc:
        raise SecretScanError(
            f"cannot read {path}: {exc.strerror}; fix its permissions or exclude it"
        ) from None


@contextmanager
def _detectors(baseline: Path | None) -> Iterator[SecretsCollection]:
    """Switch detect-secrets to the baseline's settings (or its defaults) and yield the known."""
    if baseline is None:
        with default_settings() as settings:
            settings.disable_filters(_VERIFICATION_FILTER)
            yield SecretsCollection()
        return

    raw = _read_baseline(baseline)
    # Starts from empty settings, so only the baseline's plugins and filters are in force.
    with transient_settings({}):
        try:
            # `filename` makes the library skip the baseline itself: its hashes look like secrets.
            known = ds_baseline.load(raw, filename=str(baseline))
            get_settings().disable_filters(_VERIFICATION_FILTER)
            plugins = get_plugins()  # lazily built: a bad plugin entry fails here, not mid-scan
        except (KeyError, TypeError, ValueError, AttributeError, ImportError, OSError) as exc:
            reason = "unknown plugin or option" if isinstance(exc, TypeError) else repr(exc)
            raise SecretScanError(
                f"baseline {baseline} is not a usable detect-secrets baseline ({reason});"
                " regenerate it with `detect-secrets scan > .secrets.baseline`"
            ) from None
        if not plugins:
            raise SecretScanError(
                f"baseline {baseline} enables no detectors, so nothing would be found;"
                " regenerate it with `detect-secrets scan > .secrets.baseline`"
            )
        yield known


def _read_baseline(path: Path) -> dict[str, object]:
    try:
        raw = ds_baseline.load_from_file(str(path))
    except UnableToReadBaselineError as exc:
        cause = exc.__cause__
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        raise SecretScanError(
            f"cannot read baseline {path}: {reason}; fix the path or regenerate it with"
            " `detect-secrets scan > .secrets.baseline`"
        ) from None
    except (UnicodeDecodeError, InvalidFile):
        raise SecretScanError(
            f"baseline {path} is not UTF-8 JSON; regenerate it with"
            " `detect-secrets scan > .secrets.baseline`"
        ) from None
    if not isinstance(raw, dict):
        raise SecretScanError(
            f"baseline {path} is JSON but not a detect-secrets baseline (expected an object);"
            " regenerate it with `detect-secrets scan > .secrets.baseline`"
        )
    return raw


def _baseline_file_patterns() -> list[re.Pattern[str]]:
    """The baseline's `--exclude-files` regexes, to be matched against paths relative to root.

    The library matches them against the path it opens, which is `root` joined with the relative
    path; a pattern written as `^tests/` when the baseline was made at the repository root would
    then never match. Matching the relative path too keeps the baseline's meaning.
    """
    config = get_settings().filters.get(_FILE_REGEX_FILTER, {})
    patterns = config.get("pattern", [])
    if isinstance(patterns, str):
        patterns = [patterns]
    return [re.compile(p) for p in patterns]


def _files_to_scan(
    root: Path,
    exclude: Sequence[str],
    excluded_by_baseline: list[re.Pattern[str]],
    max_files: int,
    baseline: Path | None,
) -> list[str]:
    """Relative paths of the text files to scan, sorted, counted against `max_files` as found."""

    def excluded(relative: str) -> bool:
        return any(fnmatchcase(relative, pattern) for pattern in exclude) or any(
            pattern.search(relative) for pattern in excluded_by_baseline
        )

    def unreadable(error: OSError) -> None:
        raise SecretScanError(
            f"cannot list {error.filename}: {error.strerror}; fix its permissions or exclude it"
        )

    candidates: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(dirpath)
        base = here.relative_to(root)
        # Pruned in place so os.walk never descends into them, which is what bounds the walk.
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in SKIPPED_DIRS
            and not excluded((base / name).as_posix())
            # tools' caches (pytest, mypy, ruff) tag themselves: generated, never committed
            and not (here / name / CACHEDIR_TAG).is_file()
        )
        for name in sorted(filenames):
            path = here / name
            relative = (base / name).as_posix()
            # Symlinks are skipped: a link's target is scanned where it lives in the tree, and a
            # link out of the tree (or to a FIFO) is not ours to read.
            if path.is_symlink() or not path.is_file() or excluded(relative) or path == baseline:
                continue
            candidates.append(relative)
            if len(candidates) > max_files:
                raise SecretScanError(
                    f"{root} has more than {max_files} files to scan; narrow the paths or add"
                    " excludes (e.g. 'build/*', 'vendor/*')"
                )
    return sorted(relative for relative in candidates if not _is_binary(root / relative))


def _is_binary(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        # The library would log "Unable to open file" and move on: a silent gap in the evidence.
        raise SecretScanError(
            f"cannot read {path}: {exc.strerror}; fix its permissions or exclude it"
        ) from None
    return b"\0" in head
