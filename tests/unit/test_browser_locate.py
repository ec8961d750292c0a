"""Which Chromium is launched: explicit choices first, then Playwright's, then PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.browser.locate import locate_chromium
from releasegate.errors import BrowserUnavailable, EvidenceMissing


@pytest.fixture
def fake_browser(tmp_path: Path) -> Path:
    path = tmp_path / "chrome"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def no_path(name: str) -> str | None:
    return None


def test_the_environment_file_wins(fake_browser: Path) -> None:
    """[browser] executable is used even when the variable and PATH offer others."""
    found = locate_chromium(
        str(fake_browser),
        environ={"RELEASEGATE_CHROMIUM": "/elsewhere/chrome"},
        which=lambda name: "/usr/bin/chromium",
    )

    assert found.path == fake_browser
    assert found.source == "[browser] executable"


def test_the_variable_comes_before_playwright_and_path(fake_browser: Path, tmp_path: Path) -> None:
    """$RELEASEGATE_CHROMIUM beats Playwright's build and PATH."""
    found = locate_chromium(
        environ={"RELEASEGATE_CHROMIUM": str(fake_browser)},
        playwright_path=str(fake_browser),
        which=lambda name: "/usr/bin/chromium",
    )

    assert found.source == "$RELEASEGATE_CHROMIUM"


def test_playwrights_own_build_comes_before_path(fake_browser: Path) -> None:
    """An installed Playwright build is preferred to a system Chromium."""
    found = locate_chromium(environ={}, playwright_path=str(fake_browser), which=lambda n: "/x")

    assert found.path == fake_browser
    assert found.source == "playwright"


def test_a_missing_playwright_build_falls_through_to_path(tmp_path: Path) -> None:
    """Playwright names a path it expects; when nothing is there, PATH is searched in order."""
    seen: list[str] = []

    def which(name: str) -> str | None:
        seen.append(name)
        return "/usr/bin/chromium-browser" if name == "chromium-browser" else None

    found = locate_chromium(environ={}, playwright_path=str(tmp_path / "nope"), which=which)

    assert found.path == Path("/usr/bin/chromium-browser")
    assert found.source == "PATH"
    assert seen == ["chromium", "chromium-browser"]


def test_nothing_found_is_missing_evidence_with_an_install_hint() -> None:
    """No browser anywhere: BrowserUnavailable (evidence missing, HOLD), one line, a hint."""
    with pytest.raises(BrowserUnavailable) as caught:
        locate_chromium(environ={}, playwright_path=None, which=no_path)

    message = str(caught.value)
    assert isinstance(caught.value, EvidenceMissing)
    assert "no Chromium found" in message
    assert "apt-get install chromium" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("configured", "environ", "source"),
    [
        pytest.param("/opt/none/chrome", {}, "[browser] executable", id="file"),
        pytest.param(
            None,
            {"RELEASEGATE_CHROMIUM": "/opt/none/chrome"},
            "$RELEASEGATE_CHROMIUM",
            id="variable",
        ),
    ],
)
def test_an_explicit_choice_that_does_not_exist_is_not_silently_replaced(
    configured: str | None, environ: dict[str, str], source: str
) -> None:
    """The user asked for that browser: say it is missing rather than launch another."""
    with pytest.raises(BrowserUnavailable) as caught:
        locate_chromium(configured, environ=environ, which=lambda n: "/usr/bin/chromium")

    assert f"no browser at /opt/none/chrome (given by {source})" in str(caught.value)


def test_a_bare_name_is_looked_up_on_path() -> None:
    """`executable = "chromium"` means the one on PATH."""
    found = locate_chromium("chromium", environ={}, which=lambda n: f"/usr/bin/{n}")

    assert found.path == Path("/usr/bin/chromium")
