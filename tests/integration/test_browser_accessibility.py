"""Accessibility in a real Chromium: axe-core lists a page's serious violations with their
selectors; `[browser] accessibility` decides whether they block (advisory by default)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.evidence.decide import decide
from releasegate.outcome import Verdict
from tests.integration.conftest import GateRun, RunGate, write_env
from tests.loopback_server import LoopbackServer, QuietHandler

pytestmark = pytest.mark.skipif(
    not (os.environ.get("RELEASEGATE_CHROMIUM") or shutil.which("chromium")),
    reason="no Chromium here (CI installs Debian's chromium package)",
)

# An image without alt text and an icon button without a name: two critical violations.
PAGE = b"""<!doctype html><html lang="en"><head><title>Gallery</title>
<link rel="icon" href="data:,"></head><body><main><h1>Gallery</h1>
<img id="hero" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
<button class="close"></button></main></body></html>"""


class _GalleryHandler(QuietHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)


@pytest.fixture
def gallery() -> Iterator[str]:
    """The gallery page on loopback; its base URL."""
    server = LoopbackServer(_GalleryHandler)
    try:
        yield server.base
    finally:
        server.close()


ENV = """
[target]
base_url = "{url}"

[browser]
{setting}

[[pages]]
path = "/"
expect_text = "Gallery"
"""
CHECK = "test_page_is_accessible[/-chromium]"


def run_with(run_gate: RunGate, tmp_path: Path, url: str, setting: str, name: str) -> GateRun:
    envs = tmp_path / name
    write_env(envs, "gallery", ENV.format(url=url, setting=setting))
    return run_gate(
        "--env",
        "gallery",
        "-k",
        "test_page_is_accessible or test_page_loads_in_the_browser",
        env_vars={"RELEASEGATE_ENV_DIR": str(envs)},
    )


def test_violations_are_listed_and_block_only_when_asked(
    run_gate: RunGate, gallery: str, tmp_path: Path
) -> None:
    """Advisory (the default): the check fails listing image-alt at #hero and button-name at the
    button with their help pages, and the verdict stays GO; blocking: ROLLBACK; off: no check."""
    advisory = run_with(run_gate, tmp_path, gallery, "", "advisory")
    blocking = run_with(run_gate, tmp_path, gallery, 'accessibility = "blocking"', "blocking")
    off = run_with(run_gate, tmp_path, gallery, 'accessibility = "off"', "off")

    check = advisory.check(CHECK)
    assert check.outcome == "failed", advisory.output
    assert check.message.startswith("2 serious or critical accessibility violation(s):")
    assert "button-name (critical): Buttons must have discernible text at button (" in check.message
    assert "image-alt (critical): Images must have alternative text at #hero (" in check.message
    assert "https://dequeuniversity.com/rules/axe/4.12/image-alt" in check.message
    assert check.blocking is False
    assert decide(advisory.results).verdict is Verdict.GO
    assert blocking.check(CHECK).blocking is True
    assert decide(blocking.results).verdict is Verdict.ROLLBACK
    assert CHECK not in {c.id.rpartition("::")[2] for c in off.results.checks}
    assert decide(off.results).verdict is Verdict.GO
