"""`releasegate init`: look at a running application and write `environments/NAME.toml`.

Refuses before sending anything when the file exists (without `force`) or the URL is not an
http(s) URL; writes the file atomically; then loads it as `envs check` would, so a file that
would not load is reported at once rather than at the first gate run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from releasegate.config.loader import load_for_review
from releasegate.config.strict_base import check_url
from releasegate.errors import ConfigError
from releasegate.evidence.results import write_atomically
from releasegate.ops.init.app_discovery import Findings, discover
from releasegate.ops.init.environment_text import environment_text

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


class InitRefused(ValueError):
    """Bad input to `init`: the message says what and how to fix it."""


@dataclass
class Written:
    path: Path
    name: str
    findings: Findings
    problems: list[str] = field(default_factory=list)  # from loading the file back


def default_name(base_url: str) -> str:
    """A name from the host: `shop` for https://shop.example.com, else `app`."""
    host = urlsplit(base_url).hostname or ""
    first = host.split(".", 1)[0].lower()
    return first if _NAME.fullmatch(first) and first != "localhost" else "app"


def init_environment(
    base_url: str,
    directory: Path,
    *,
    name: str | None = None,
    force: bool = False,
    headers: dict[str, str] | None = None,
    max_requests: int = 100,
    max_seconds: float = 30.0,
) -> Written:
    try:
        url = check_url(base_url)
    except ValueError as exc:
        raise InitRefused(f"--base-url {exc}") from None
    chosen = name or default_name(url)
    if not _NAME.fullmatch(chosen):
        raise InitRefused(
            f"--name {chosen!r}: use 1-40 lowercase letters, digits, '-' or '_', starting with a"
            " letter"
        )
    path = directory / f"{chosen}.toml"
    if path.exists() and not force:
        raise InitRefused(f"{path} exists; pass --force to replace it, or choose another --name")
    try:
        found = discover(url, headers=headers, max_requests=max_requests, max_seconds=max_seconds)
    except ConnectionError as exc:
        raise InitRefused(str(exc)) from None
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(path, environment_text(found, chosen))
    written = Written(path, chosen, found)
    try:
        load_for_review(chosen, directory)
    except ConfigError as exc:
        written.problems.append(str(exc))
    return written
