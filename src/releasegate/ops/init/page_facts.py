"""What `releasegate init` reads out of what an application serves: a page's title, first
heading, links, assets and meta tags; a sitemap's locations; robots.txt's Sitemap lines; where a
JSON document keeps its version. Pure functions over text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from releasegate.checks.http_expectations import collapse_whitespace

# links a person follows but `init` must not: they change state, or leave the page
_UNSAFE_LINK = re.compile(r"log-?out|sign-?out|delete|remove|unsubscribe|reset", re.IGNORECASE)
# not pages: assets, downloads, feeds
_NOT_A_PAGE = re.compile(
    r"\.(css|js|mjs|map|png|jpe?g|gif|svg|webp|ico|woff2?|ttf|eot|pdf|zip|gz|xml|json|txt|mp4)$",
    re.IGNORECASE,
)
_VERSION_KEYS = ("version", "app_version", "appVersion", "release", "build_version", "tag")


@dataclass
class PageFacts:
    title: str | None = None
    heading: str | None = None  # the first <h1>
    links: list[str] = field(default_factory=list)  # every <a href>, as written
    assets: list[str] = field(default_factory=list)  # scripts and stylesheets, as written
    metas: dict[str, str] = field(default_factory=dict)  # <meta name=...> -> content


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self._in: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href"):
            self.facts.links.append(found["href"])
        elif tag == "script" and found.get("src"):
            self.facts.assets.append(found["src"])
        elif tag == "link" and "stylesheet" in found.get("rel", "").lower() and found.get("href"):
            self.facts.assets.append(found["href"])
        elif tag == "meta" and found.get("name") and "content" in found:
            self.facts.metas.setdefault(found["name"].lower(), found["content"])
        elif (tag == "title" and self.facts.title is None) or (
            tag == "h1" and self.facts.heading is None
        ):
            self._in, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag != self._in:
            return
        text = collapse_whitespace("".join(self._text)) or None
        if tag == "title":
            self.facts.title = text
        else:
            self.facts.heading = text
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._text.append(data)


def page_facts(html: str) -> PageFacts:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.facts


def expect_text_of(facts: PageFacts) -> str | None:
    """A short text the page shows that a broken deploy would lose: its first heading, else its
    title (at most 60 characters, cut at a word)."""
    text = facts.heading or facts.title
    if not text:
        return None
    if len(text) <= 60:
        return text
    return text[:60].rsplit(" ", 1)[0]


def same_origin_path(base_url: str, page_url: str, href: str) -> str | None:
    """`href` (found on `page_url`) as a path with query on `base_url`'s origin, or None: another
    origin, not http(s), only a fragment, or a link `init` must not follow."""
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    target = urlsplit(urljoin(page_url, href))
    base = urlsplit(base_url)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        return None
    base_path = base.path.rstrip("/")
    if base_path and not (target.path == base_path or target.path.startswith(base_path + "/")):
        return None
    path = target.path[len(base_path) :] or "/"
    if _UNSAFE_LINK.search(path):
        return None
    return f"{path}?{target.query}" if target.query else path


def is_page_path(path: str) -> bool:
    return not _NOT_A_PAGE.search(path.split("?", 1)[0])


def sitemap_locations(xml: str) -> list[str]:
    """The `<loc>` URLs of a sitemap or sitemap index, in order."""
    return [m.strip() for m in re.findall(r"<loc>\s*([^<]+?)\s*</loc>", xml, re.IGNORECASE)]


def robots_sitemaps(robots: str) -> list[str]:
    """The URLs of robots.txt's `Sitemap:` lines."""
    return [
        line.split(":", 1)[1].strip()
        for line in robots.splitlines()
        if line.lower().startswith("sitemap:") and line.split(":", 1)[1].strip()
    ]


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and str(value) != ""


def version_key_of(document: Any) -> str | None:
    """Where a JSON document keeps a version: `version` at the top, else a JSONPath to the first
    version-like field within three levels (`$.build.version`), else None."""
    if not isinstance(document, Mapping):
        return None
    for key in _VERSION_KEYS:
        if _scalar(document.get(key)):
            return key
    frontier: list[tuple[str, Mapping[str, Any]]] = [("$", document)]
    for _ in range(3):
        deeper: list[tuple[str, Mapping[str, Any]]] = []
        for path, node in frontier:
            for key in _VERSION_KEYS:
                if path != "$" and _scalar(node.get(key)):
                    return f"{path}.{key}"
            for name, child in node.items():
                if isinstance(child, Mapping) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    deeper.append((f"{path}.{name}", child))
        frontier = deeper
    return None
