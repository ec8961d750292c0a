"""The changelog check: version entries read from every heading form understood, and the
release's entry found, found empty, or missing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from releasegate.checks.changelog import (
    entries,
    find_entry,
    judge_changelog,
    judge_changelog_file,
    newest,
    normalise,
    version_of,
)
from releasegate.outcome import Judgement

BODY = "\n- Fixed the thing.\n"


@pytest.mark.parametrize(
    ("text", "release", "heading"),
    [
        pytest.param(
            "## [1.4.2] - 2026-12-01\n", "1.4.2", "## [1.4.2] - 2026-12-01", id="kac-dated"
        ),
        pytest.param("## [1.4.2]\n", "1.4.2", "## [1.4.2]", id="kac-undated"),
        pytest.param(
            "## [1.4.2](https://example.test/compare/v1.4.1...v1.4.2) - 2026-12-01\n",
            "1.4.2",
            "## [1.4.2](https://example.test/compare/v1.4.1...v1.4.2) - 2026-12-01",
            id="kac-linked",
        ),
        pytest.param("## 1.4.2\n", "1.4.2", "## 1.4.2", id="plain"),
        pytest.param("## v1.4.2\n", "1.4.2", "## v1.4.2", id="v-in-heading"),
        pytest.param("## 1.4.2\n", "v1.4.2", "## 1.4.2", id="v-in-release"),
        pytest.param("## [v1.4.2]\n", "v1.4.2", "## [v1.4.2]", id="v-in-both"),
        pytest.param("# 1.4.2\n", "1.4.2", "# 1.4.2", id="level-1"),
        pytest.param("### 1.4.2 ###\n", "1.4.2", "### 1.4.2 ###", id="closing-hashes"),
        pytest.param("1.4.2 (2026-12-01)\n---\n", "1.4.2", "1.4.2 (2026-12-01)", id="setext-dash"),
        pytest.param(
            "1.4.2 (2026-12-01)\n===\n", "1.4.2", "1.4.2 (2026-12-01)", id="setext-equals"
        ),
        pytest.param("1.4.2\n-----\n", "1.4.2", "1.4.2", id="setext-undated"),
        pytest.param("## 1.4.2 - 2026-12-01\n", "1.4.2", "## 1.4.2 - 2026-12-01", id="plain-dated"),
        pytest.param("## 2.0.0-rc.1\n", "2.0.0-rc.1", "## 2.0.0-rc.1", id="pre-release"),
        pytest.param(
            "## [1.4.2] - 2026-12-01\n", " 1.4.2 ", "## [1.4.2] - 2026-12-01", id="spaces"
        ),
    ],
)
def test_an_entry_in_every_understood_form_passes(text: str, release: str, heading: str) -> None:
    """Each heading form names its version; the release's entry with text under it passes."""
    judged = judge_changelog(text + BODY, release, where="CHANGELOG.md")

    assert judged.judgement is Judgement.PASS, judged.message
    assert judged.measured == heading
    assert f"has an entry for {release}" in judged.message


@pytest.mark.parametrize(
    ("text", "release"),
    [
        pytest.param("## [Unreleased]\n", "Unreleased", id="unreleased-is-no-release"),
        pytest.param("## [Unreleased]\n", "1.4.2", id="unreleased-only"),
        pytest.param("## 1.4.2\n", "1.4", id="release-is-a-prefix-of-the-entry"),
        pytest.param("## 1.4\n", "1.4.2", id="entry-is-a-prefix-of-the-release"),
        pytest.param("## 1.4.20\n", "1.4.2", id="longer-last-number"),
        pytest.param("## 1.4.2-rc.1\n", "1.4.2", id="pre-release-is-not-the-release"),
        pytest.param("## 1.4.2.dev0\n", "1.4.2", id="longer-version"),
        pytest.param("Version 1.4.2 is coming.\n", "1.4.2", id="version-in-text-not-heading"),
        pytest.param("- 1.4.2\n---\n", "1.4.2", id="list-item-then-rule"),
        pytest.param("```\n## 1.4.2\n```\n", "1.4.2", id="inside-a-code-fence"),
        pytest.param("##1.4.2\n", "1.4.2", id="no-space-after-hashes"),
        pytest.param("1. Fixed\n---\n", "1", id="numbered-list-item"),
    ],
)
def test_no_entry_for_the_release_fails(text: str, release: str) -> None:
    """What is not a version heading, or names another version, is no entry for the release."""
    judged = judge_changelog(text + BODY, release, where="CHANGELOG.md")

    assert judged.judgement is Judgement.FAIL
    assert f"CHANGELOG.md has no entry for {release}" in judged.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("## [1.4.2] - 2026-12-01\n## [1.4.1]\n- old\n", id="next-entry-right-after"),
        pytest.param("## [1.4.2]\n\n\n## [1.4.1]\n- old\n", id="blank-lines-only"),
        pytest.param(
            "## [1.4.2]\n### Added\n### Fixed\n\n## [1.4.1]\n- old\n", id="empty-sections"
        ),
        pytest.param("## [1.4.2]\n<!-- to do -->\n## [1.4.1]\n- old\n", id="a-comment-only"),
        pytest.param("## [1.4.2]\n\n---\n\n## [1.4.1]\n- old\n", id="a-rule-only"),
        pytest.param("## 1.4.2\n", id="last-in-the-file"),
        pytest.param("## [1.4.2]\n\n[1.4.2]: https://example.test/v1.4.2\n", id="link-definition"),
        pytest.param("1.4.2\n=====\n\n1.4.1\n=====\n- old\n", id="setext"),
        pytest.param("# 1.4.2\n# 1.4.1\n- old\n", id="level-1"),
    ],
)
def test_an_empty_entry_fails(text: str) -> None:
    """An entry with nothing under it before the next heading of its level is a failure."""
    judged = judge_changelog(text, "1.4.2", where="CHANGELOG.md")

    assert judged.judgement is Judgement.FAIL
    assert "the entry for 1.4.2" in judged.message
    assert "is empty: nothing under it before the next heading" in judged.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("## [1.4.2]\n### Added\n- a thing\n## [1.4.1]\n", id="in-a-section"),
        pytest.param("## [1.4.2]\nOne line of prose.\n## [1.4.1]\n", id="prose"),
        pytest.param("## [1.4.2]\n```\n# not a heading\n```\n## [1.4.1]\n", id="code-block"),
        pytest.param("# [1.4.2]\n## Fixed\nthe bug\n# [1.4.1]\n", id="level-1-with-sections"),
    ],
)
def test_an_entry_with_text_under_it_is_not_empty(text: str) -> None:
    """Sub-headings of the entry are inside it; the text under them counts."""
    assert judge_changelog(text, "1.4.2", where="CHANGELOG.md").ok


def test_a_missing_entry_lists_the_newest_versions_the_file_has() -> None:
    """Newest first by version (not by place in the file), five of them, and how many more."""
    text = "".join(f"## {v}\n- change\n" for v in ["1.2.0", "1.10.0", "1.9.1", "1.9.0", "0.9"])
    text += "## [1.3.0-rc.1]\n- change\n## 1.3.0\n- change\n## [Unreleased]\n- next\n"

    judged = judge_changelog(text, "1.11.0", where="docs/CHANGELOG.md")

    assert judged.judgement is Judgement.FAIL
    assert judged.message == (
        "docs/CHANGELOG.md has no entry for 1.11.0; its newest versions:"
        " 1.10.0, 1.9.1, 1.9.0, 1.3.0, 1.3.0-rc.1 and 2 older"
    )
    assert judged.limit == "1.11.0"


def test_a_file_without_version_entries_says_which_headings_are_understood() -> None:
    judged = judge_changelog("# Changelog\n\nNothing yet.\n", "1.4.2", where="CHANGELOG.md")

    assert judged.judgement is Judgement.FAIL
    assert "has no entry for 1.4.2; it has no version entries at all" in judged.message
    assert "## [1.4.2] - 2026-12-01" in judged.message


def test_entries_of_a_keep_a_changelog_file() -> None:
    """Version, heading as written, 1-based line, date and emptiness, in the file's order."""
    text = (
        "# Changelog\n\n## [Unreleased]\n\n## [1.4.2] - 2026-12-01\n### Fixed\n- x\n\n"
        "## [1.4.1]\n\n1.4.0 (2026-10-01)\n------------------\n- y\n"
    )

    found = entries(text)

    assert [(e.version, e.line, e.date, e.empty) for e in found] == [
        ("1.4.2", 5, "2026-12-01", False),
        ("1.4.1", 9, None, True),
        ("1.4.0", 11, "2026-10-01", False),
    ]
    assert found[0].heading == "## [1.4.2] - 2026-12-01"
    assert newest(found) == ["1.4.2", "1.4.1", "1.4.0"]
    assert find_entry(found, "v1.4.1") == found[1]
    assert find_entry(found, "1.4") is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("v1.4.2", "1.4.2", id="v"),
        pytest.param("V1.4.2", "1.4.2", id="capital-V"),
        pytest.param(" 1.4.2\n", "1.4.2", id="spaces"),
        pytest.param("vnext", "vnext", id="v-word-kept"),
        pytest.param("1.4.2", "1.4.2", id="plain"),
    ],
)
def test_normalise(given: str, expected: str) -> None:
    assert normalise(given) == expected


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        pytest.param("[1.4.2] - 2026-12-01", "1.4.2", id="kac"),
        pytest.param("v1.4.2", "1.4.2", id="v"),
        pytest.param("1.4.2 (2026-12-01)", "1.4.2", id="dated"),
        pytest.param("[Unreleased]", None, id="unreleased"),
        pytest.param("Added", None, id="section"),
        pytest.param("2026-12-01", None, id="a-date-alone"),
    ],
)
def test_version_of(heading: str, expected: str | None) -> None:
    assert version_of(heading) == expected


def test_a_missing_changelog_file_fails_naming_the_path(tmp_path: Path) -> None:
    """The team asked for it: no changelog is a failure of the release, not missing evidence."""
    path = tmp_path / "CHANGELOG.md"

    judged = judge_changelog_file(path, "1.4.2", shown="CHANGELOG.md")

    assert judged.judgement is Judgement.FAIL
    assert (
        judged.message
        == f"the changelog CHANGELOG.md ({path}) does not exist ([release] changelog)"
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda p: p.mkdir(), "Is a directory", id="a-directory"),
        pytest.param(lambda p: p.write_bytes(b"## 1.4.2\n\xff\xfe\n"), "utf-8", id="not-utf-8"),
    ],
)
def test_an_unreadable_changelog_file_fails_naming_the_path(
    tmp_path: Path, make: Callable[[Path], object], reason: str
) -> None:
    path = tmp_path / "CHANGELOG.md"
    make(path)

    judged = judge_changelog_file(path, "1.4.2")

    assert judged.judgement is Judgement.FAIL
    assert judged.message.startswith(f"the changelog {path} cannot be read: ")
    assert reason in judged.message


def test_a_readable_changelog_file_is_judged(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text("## [1.4.2] - 2026-12-01\n- Fixed the thing.\n", encoding="utf-8")

    judged = judge_changelog_file(path, "v1.4.2", shown="CHANGELOG.md")

    assert judged.ok
    assert judged.message == (
        "CHANGELOG.md has an entry for v1.4.2: '## [1.4.2] - 2026-12-01' (line 1)"
    )
    assert judged.where == "CHANGELOG.md"
