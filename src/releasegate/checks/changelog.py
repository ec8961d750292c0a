"""The changelog has an entry for the release: its version entries read from the Markdown, and
the release's found, found empty, or missing (docs/release-hygiene.md).

Headings understood, at any level, ATX (`#`) or setext (a line underlined with `===` or `---`):
Keep a Changelog's `[1.4.2] - 2026-12-01` and `[1.4.2]` (a link after the bracket allowed),
plain `1.4.2`, `v1.4.2`, `1.4.2 (2026-12-01)` and `1.4.2 - 2026-12-01`. Anything else (such as
`[Unreleased]`, `Added`) is not a version entry. A `v` before the version, in the heading or in
the release version, does not count; otherwise versions compare exactly (1.4 is not 1.4.2).

An entry's text runs to the next heading of its level or a higher one (its own `### Added` and
the like are inside it); an entry with no text there, only headings, blank lines and comments,
is empty.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.outcome import Judged

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# a line that cannot be a setext heading's text: a list item, a quote, a table row, a rule
_NOT_SETEXT_TEXT = re.compile(r"^ {0,3}([-*+>|]|\d+[.)])(\s|$)|^ {0,3}[-*_=\s]+$")
_COMMENT = re.compile(r"<!--.*?-->")
# lines that say nothing about a release: a rule between entries, a link definition (the
# `[1.4.2]: https://...` lines Keep a Changelog puts at the end)
_NOT_TEXT = re.compile(r"^ {0,3}(([-*_])([ \t]*\2){2,}|\[[^\]]+\]:[ \t]*\S+.*)[ \t]*$")
# the version at the start of the heading: `[v1.4.2]`, `1.4.2-rc.1`; it ends at the end, a
# space, `]` or `(`, so `1. Added` (a number) and `1.4.2.dev` (a longer version) are not 1.4.2
_VERSION = re.compile(
    r"^\[?[vV]?(?P<version>\d+(?:\.\d+)*(?:[-+][0-9A-Za-z][0-9A-Za-z.+-]*)?)(?=$|[\s\]\(])"
)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
NEWEST_SHOWN = 5  # versions listed when the release has no entry


@dataclass(frozen=True)
class Heading:
    """A Markdown heading: its 0-based line, level (setext `===` is 1, `---` 2), text, and the
    line its text ends on (the underline of a setext heading)."""

    line: int
    level: int
    text: str
    last_line: int


@dataclass(frozen=True)
class Entry:
    """A version's entry: the version without a `v`, the heading as written, its 1-based line,
    its date if the heading has one, and whether there is nothing under it."""

    version: str
    heading: str
    line: int
    date: str | None
    empty: bool


def normalise(version: str) -> str:
    """`v1.4.2` and ` 1.4.2 ` are 1.4.2: a leading `v` and surrounding space do not count."""
    text = version.strip()
    return text[1:] if text[:1] in ("v", "V") and text[1:2].isdigit() else text


def headings(lines: Sequence[str]) -> list[Heading]:
    """Every heading outside fenced code blocks, in order."""
    found: list[Heading] = []
    fence: str | None = None
    underline_at = -1
    for n, line in enumerate(lines):
        if n == underline_at:  # a setext heading's underline starts nothing
            continue
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            found.append(Heading(n, len(atx.group(1)), (atx.group(2) or "").strip(), n))
            continue
        underline = _SETEXT.match(lines[n + 1]) if n + 1 < len(lines) else None
        if underline and line.strip() and not _NOT_SETEXT_TEXT.match(line):
            level = 1 if underline.group(1)[0] == "=" else 2
            found.append(Heading(n, level, line.strip(), n + 1))
            underline_at = n + 1
    return found


def version_of(heading: str) -> str | None:
    """The version a heading names (`[1.4.2] - 2026-12-01` -> 1.4.2), or None (a heading that
    is a date, `2026-12-01`, names none)."""
    match = _VERSION.match(heading.strip())
    if match is None or _DATE.fullmatch(match.group("version")):
        return None
    return match.group("version")


def entries(text: str) -> list[Entry]:
    """The version entries of a changelog, in the file's order."""
    lines = text.splitlines()
    found = headings(lines)
    covered = {n for h in found for n in range(h.line, h.last_line + 1)}
    result: list[Entry] = []
    for index, heading in enumerate(found):
        version = version_of(heading.text)
        if version is None:
            continue
        after = [h.line for h in found[index + 1 :] if h.level <= heading.level]
        end = after[0] if after else len(lines)
        body = range(heading.last_line + 1, end)
        empty = not any(n not in covered and _says_something(lines[n]) for n in body)
        date = _DATE.search(heading.text)
        result.append(
            Entry(
                version=version,
                heading=lines[heading.line].strip(),
                line=heading.line + 1,
                date=date.group(1) if date else None,
                empty=empty,
            )
        )
    return result


def _says_something(line: str) -> bool:
    text = _COMMENT.sub("", line).strip()
    return bool(text) and not _NOT_TEXT.match(text)


def _order(version: str) -> tuple[tuple[int, ...], int, str]:
    """Newest first when sorted in reverse: numbers numerically, a pre-release before its
    release (1.4.2-rc.1 < 1.4.2)."""
    numbers, _, suffix = version.partition("-")
    numbers = numbers.partition("+")[0]
    return tuple(int(p) for p in numbers.split(".")), 0 if suffix else 1, suffix


def newest(found: Sequence[Entry], count: int = NEWEST_SHOWN) -> list[str]:
    """The newest `count` versions the entries name, newest first (by version, not by place)."""
    versions = list(dict.fromkeys(e.version for e in found))
    return sorted(versions, key=_order, reverse=True)[:count]


def find_entry(found: Sequence[Entry], release: str) -> Entry | None:
    """The first entry for `release` (a `v` before either does not count), or None."""
    wanted = normalise(release)
    return next((e for e in found if e.version == wanted), None)


def judge_changelog(text: str, release: str, *, where: str) -> Judged:
    """Pass when the changelog (`where`, its path as shown) has an entry for `release` with
    something under it; fail when the entry is empty or missing (naming the newest versions
    the file has)."""
    found = entries(text)
    entry = find_entry(found, release)
    if entry is not None and not entry.empty:
        return Judged.passed(
            f"{where} has an entry for {release}: {entry.heading!r} (line {entry.line})",
            measured=entry.heading,
            where=where,
        )
    if entry is not None:
        return Judged.failed(
            f"{where}: the entry for {release}, {entry.heading!r} (line {entry.line}), is empty:"
            " nothing under it before the next heading",
            measured=entry.heading,
            limit=release,
            where=where,
        )
    if found:
        shown = newest(found)
        more = len({e.version for e in found}) - len(shown)
        listed = ", ".join(shown) + (f" and {more} older" if more > 0 else "")
        has = f"its newest versions: {listed}"
    else:
        has = (
            "it has no version entries at all (headings such as `## [1.4.2] - 2026-12-01`,"
            " `## 1.4.2` or `1.4.2` underlined; docs/release-hygiene.md)"
        )
    return Judged.failed(
        f"{where} has no entry for {release}; {has}",
        measured=None,
        limit=release,
        where=where,
    )


def judge_changelog_file(path: Path, release: str, *, shown: str | None = None) -> Judged:
    """`judge_changelog` on the file at `path` (named `shown` in messages); a changelog that is
    missing or cannot be read as UTF-8 text is a failure of the release, naming the path."""
    where = shown or str(path)
    named = where if where == str(path) else f"{where} ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Judged.failed(
            f"the changelog {named} does not exist ([release] changelog)",
            limit=release,
            where=where,
        )
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Judged.failed(
            f"the changelog {named} cannot be read: {reason}", limit=release, where=where
        )
    return judge_changelog(text, release, where=where)
