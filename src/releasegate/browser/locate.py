"""Which Chromium to drive: an explicit path, Playwright's own build, or one on PATH.

On machines where `playwright install` cannot download (these have no internet), Chromium comes
from the system's package manager; elsewhere a user may have Playwright's build. A missing
browser is missing evidence (HOLD), never a pass and never a product failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import BrowserUnavailable

CHROMIUM_VAR = "RELEASEGATE_CHROMIUM"
# Debian/Ubuntu call it chromium (or chromium-browser); Google's builds call it google-chrome
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_HINT = (
    "install one (Debian/Ubuntu: apt-get install chromium), or point [browser] executable"
    f" or ${CHROMIUM_VAR} at a Chromium/Chrome binary"
)


@dataclass(frozen=True)
class BrowserExecutable:
    """A browser binary, and how it was found (shown in the run's header)."""

    path: Path
    source: str  # "[browser] executable", "$RELEASEGATE_CHROMIUM", "playwright", "PATH"

    def describe(self) -> str:
        return f"{self.path} (from {self.source})"


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _explicit(path_text: str, source: str) -> BrowserExecutable:
    path = Path(path_text).expanduser()
    if not path.is_absolute():
        found = shutil.which(path_text)
        if found:
            return BrowserExecutable(Path(found), source)
    if not _usable(path):
        raise BrowserUnavailable(
            f"no browser at {path_text} (given by {source}): not an executable file; {INSTALL_HINT}"
        )
    return BrowserExecutable(path, source)


def locate_chromium(
    configured: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    playwright_path: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> BrowserExecutable:
    """The Chromium to launch, in this order: `configured` (the environment file's
    `[browser] executable`), `$RELEASEGATE_CHROMIUM`, Playwright's own installed build
    (`playwright_path`, where Playwright expects it), the first system Chromium/Chrome on PATH.

    An explicit choice that does not exist is an error, not a reason to try the next one:
    the user asked for that browser. Nothing found: `BrowserUnavailable` saying how to get one.
    """
    environ = os.environ if environ is None else environ
    if configured:
        return _explicit(configured, "[browser] executable")
    from_var = environ.get(CHROMIUM_VAR, "").strip()
    if from_var:
        return _explicit(from_var, f"${CHROMIUM_VAR}")
    if playwright_path and _usable(Path(playwright_path)):
        return BrowserExecutable(Path(playwright_path), "playwright")
    for name in SYSTEM_NAMES:
        found = which(name)
        if found:
            return BrowserExecutable(Path(found), "PATH")
    raise BrowserUnavailable(
        f"no Chromium found: not configured, no Playwright build, none of"
        f" {', '.join(SYSTEM_NAMES)} on PATH; {INSTALL_HINT}"
    )
