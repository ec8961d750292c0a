"""What `releasegate init` reads out of pages, sitemaps, robots.txt and version documents."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.ops.init.page_facts import (
    expect_text_of,
    is_page_path,
    page_facts,
    robots_sitemaps,
    same_origin_path,
    sitemap_locations,
    version_key_of,
)

PAGE = """<!doctype html><html><head>
<title>  Acme   shop </title>
<meta name="App-Version" content="4.2.0"><meta name="viewport" content="width=device-width">
<link rel="stylesheet" href="/assets/site.css"><script src="/assets/app.js"></script>
</head><body><h1>Welcome &amp; hello</h1><h1>Second</h1>
<a href="/products">Products</a><a href="https://elsewhere.example/x">out</a>
<a href="#top">top</a><a href="/logout">Sign out</a></body></html>"""


def test_a_page_gives_its_title_heading_links_assets_and_metas() -> None:
    facts = page_facts(PAGE)

    assert facts.title == "Acme shop"
    assert facts.heading == "Welcome & hello"
    assert facts.links == ["/products", "https://elsewhere.example/x", "#top", "/logout"]
    assert facts.assets == ["/assets/site.css", "/assets/app.js"]
    assert facts.metas["app-version"] == "4.2.0"


def test_the_expected_text_is_the_heading_else_the_title_cut_at_a_word() -> None:
    assert expect_text_of(page_facts("<title>Only a title</title>")) == "Only a title"
    long = page_facts(f"<h1>{'word ' * 30}</h1>")
    text = expect_text_of(long)
    assert text is not None
    assert len(text) <= 60
    assert text.endswith("word")
    assert expect_text_of(page_facts("<p>no title</p>")) is None


BASE = "https://shop.example.com"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/products", "/products"),
        ("products?page=2", "/products?page=2"),
        ("https://shop.example.com/cart", "/cart"),
        ("https://elsewhere.example/x", None),
        ("http://shop.example.com/cart", None),
        ("#top", None),
        ("mailto:help@example.com", None),
        ("javascript:void(0)", None),
        ("/logout", None),
        ("/account/sign-out", None),
        ("/items/4/delete", None),
    ],
    ids=[
        "path",
        "relative-with-query",
        "absolute-same-origin",
        "other-origin",
        "other-scheme",
        "fragment",
        "mailto",
        "javascript",
        "logout",
        "sign-out",
        "delete",
    ],
)
def test_only_safe_same_origin_links_are_followed(href: str, expected: str | None) -> None:
    assert same_origin_path(BASE, f"{BASE}/", href) == expected


def test_links_under_a_base_path_stay_under_it() -> None:
    base = "https://example.com/app"

    assert same_origin_path(base, f"{base}/", "/app/settings") == "/settings"
    assert same_origin_path(base, f"{base}/", "/other") is None


@pytest.mark.parametrize(
    ("path", "page"),
    [("/products", True), ("/a/b?x=1", True), ("/assets/app.js", False), ("/logo.PNG", False)],
)
def test_assets_are_not_pages(path: str, page: bool) -> None:
    assert is_page_path(path) is page


def test_a_sitemap_lists_its_locations() -> None:
    xml = """<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://shop.example.com/</loc></url>
    <url><loc>
      https://shop.example.com/about
    </loc></url></urlset>"""

    assert sitemap_locations(xml) == ["https://shop.example.com/", "https://shop.example.com/about"]


def test_robots_txt_names_its_sitemaps() -> None:
    robots = "User-agent: *\nDisallow: /admin\nSitemap: https://shop.example.com/sm.xml\nsitemap:\n"

    assert robots_sitemaps(robots) == ["https://shop.example.com/sm.xml"]


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"version": "1.2.3", "commit": "abc"}, "version"),
        ({"build": {"version": "2.0", "time": "x"}, "git": {}}, "$.build.version"),
        ({"versions": {"app": {"release": "7"}}}, "$.versions.app.release"),
        ({"version": ""}, None),
        ({"status": "ok"}, None),
        (["1.0"], None),
    ],
    ids=["top", "spring-info", "nested", "empty", "none", "not-an-object"],
)
def test_the_version_key_is_found_at_the_top_or_nested(document: Any, key: str | None) -> None:
    assert version_key_of(document) == key
