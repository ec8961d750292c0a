"""What the committed-secrets scan found in each file, kept between runs so that an unchanged
file is not scanned again: the pre-deploy gate rescans only what changed since its last run.

An entry is keyed by the file's path relative to the scan root and the SHA-256 of its content,
and belongs to one *fingerprint*: the detect-secrets version, and the baseline's content (its
plugins, filters and known secrets decide what a file's findings are); another fingerprint
starts an empty cache. An entry holds each finding's line, detector and whether the baseline
knows it: never a secret's value or detect-secrets' hash of it. The content hashes are no more
than the repository already holds (git names every committed file by a hash of its content).

The cache is one JSON file per scan root under `$XDG_CACHE_HOME/releasegate/secret-scan/`
(`~/.cache/...`), in a directory tagged as a cache (CACHEDIR.TAG), rewritten atomically with
only the files of the latest scan (bounded by the tree). A cache that cannot be read is
ignored and one that cannot be written is skipped: it only ever saves time, never decides.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from releasegate.evidence.results import write_atomically

SCHEMA = "releasegate.secret-scan-cache/1"
CACHEDIR_TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# releasegate's secret-scan cache: safe to delete; see https://bford.info/cachedir/\n"
)

# (line, detector, known to the baseline)
Hit = tuple[int, str, bool]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "releasegate" / "secret-scan"


def fingerprint(baseline: Path | None) -> str:
    """What a file's findings depend on besides its content: the library and the baseline."""
    try:
        library = version("detect-secrets")
    except PackageNotFoundError:  # pragma: no cover: it is a dependency
        library = "unknown"
    settings = hashlib.sha256(baseline.read_bytes()).hexdigest() if baseline else "default"
    return hashlib.sha256(f"{SCHEMA}\n{library}\n{settings}".encode()).hexdigest()


def content_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ScanCache:
    """The entries of one scan root for one fingerprint; `fresh` collects this scan's."""

    path: Path | None
    fingerprint: str
    entries: dict[str, tuple[str, list[Hit]]] = field(default_factory=dict)
    fresh: dict[str, tuple[str, list[Hit]]] = field(default_factory=dict)

    @classmethod
    def open(cls, cache_dir: Path | None, root: Path, fingerprint: str) -> ScanCache:
        """The cache of `root` (empty when there is none, it is unreadable, or it was made
        under another fingerprint); `cache_dir` None: a cache that is never kept."""
        if cache_dir is None:
            return cls(None, fingerprint)
        name = hashlib.sha256(str(root).encode()).hexdigest()[:24]
        cache = cls(cache_dir / f"{name}.json", fingerprint)
        try:
            raw = json.loads(cache.path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
            if raw.get("schema") != SCHEMA or raw.get("fingerprint") != fingerprint:
                return cache
            cache.entries = {
                str(relative): (str(digest), [(int(h[0]), str(h[1]), bool(h[2])) for h in hits])
                for relative, (digest, hits) in raw["files"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
            cache.entries = {}
        return cache

    def get(self, relative: str, digest: str) -> list[Hit] | None:
        """The file's findings when its content is what was scanned before, else None."""
        entry = self.entries.get(relative)
        if entry is None or entry[0] != digest:
            return None
        self.fresh[relative] = entry
        return entry[1]

    def put(self, relative: str, digest: str, hits: list[Hit]) -> None:
        self.fresh[relative] = (digest, hits)

    def save(self) -> None:
        """Keep this scan's entries (only them: files gone from the tree drop out)."""
        if self.path is None:
            return
        document = {
            "schema": SCHEMA,
            "fingerprint": self.fingerprint,
            "files": {k: [d, [list(h) for h in hits]] for k, (d, hits) in self.fresh.items()},
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tag = self.path.parent / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text(CACHEDIR_TAG_TEXT, encoding="utf-8")
            write_atomically(self.path, json.dumps(document, separators=(",", ":")))
        except OSError:
            return  # a cache that cannot be kept costs the next run time, nothing else
