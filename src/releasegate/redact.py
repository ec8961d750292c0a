"""Masking of secret values (everything that came from a `${VAR}`) in every output.

A secret reaches an output written in more ways than one: percent-encoded in a URL (by Python,
httpx, a browser's address bar or form), JSON-escaped in results.json and HAR files,
HTML-escaped in report.html (its quotes as `&quot;`, `&#34;`, `&#x27;` or `&#39;`, depending on
the writer), HTML-escaped inside JSON inside an HTML attribute (pytest-html's data blob), and
base64-encoded inside an `Authorization: Basic` header. `Redactor` works out every such form of
every secret once, and masks them all in one pass of one regular expression.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "********"

# Below this length a value cannot be masked without mangling ordinary text ("1", "on");
# such values are still used, and the loader warns that they are too short to be secret.
MIN_SECRET_LENGTH = 4
# Words that a ${VAR} may hold (`verify_tls = "${VERIFY_TLS}"`) but that are no secret, and that
# every JSON file is full of: masking `true` would break results.json and uptime.json.
NOT_SECRETS = frozenset({"true", "false", "null", "none"})
# A base64 run shorter than this could turn up by chance in an embedded image or font.
_MIN_BASE64_CORE = 6

# Characters each URL writer leaves as they are (letters, digits and `_.-~` are never encoded):
_URL_SAFE = (
    "",  # urllib.parse.quote(s, safe=""), quote_plus
    "/",  # quote(s)'s default
    "!'()*",  # JavaScript's encodeURIComponent
    "!$&'()*+,;=:@/?",  # httpx and urllib3 in a query (RFC 3986 sub-delims, ':', '@', '/', '?')
    "!$&'()*+,;=:@/",  # httpx and urllib3 in a path
    "!$%&()*+,/:;=?@[\\]^`{|}",  # a browser, in a query (WHATWG: space " # < > ' escaped)
    "!$%&'()*+,/:;=@[\\]^|",  # a browser, in a path (also ? ` { } escaped)
)
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _url_forms(secret: str) -> set[str]:
    forms: set[str] = set()
    for safe in _URL_SAFE:
        encoded = quote(secret, safe=safe)
        forms |= {encoded, quote_plus(secret, safe=safe)}
    # application/x-www-form-urlencoded as browsers write it (WHATWG: space as +, * left as
    # is, ~ escaped): a password typed into a sign-in form, in a HAR or trace
    forms.add(quote_plus(secret, safe="*").replace("~", "%7E"))
    # some writers use lower-case hex digits
    forms |= {_PERCENT.sub(lambda m: m.group(0).lower(), form) for form in forms}
    return forms


def _html_forms(secret: str) -> set[str]:
    """`& < >` escaped; quotes as each writer does (html.escape: `&quot;` `&#x27;`, Jinja and
    markupsafe: `&#34;` `&#39;`, XML: `&apos;`, or left alone); non-ASCII as it is or as a
    numeric character reference (`&#246;`, `&#xf6;`)."""
    base = secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    forms: set[str] = set()
    for apostrophe in ("'", "&#x27;", "&#39;", "&apos;"):
        for quote_mark in ('"', "&quot;", "&#34;", "&#x22;"):
            escaped = base.replace("'", apostrophe).replace('"', quote_mark)
            forms.add(escaped)
            forms.add(escaped.encode("ascii", "xmlcharrefreplace").decode("ascii"))
            forms.add("".join(c if ord(c) < 128 else f"&#x{ord(c):x};" for c in escaped))
    return forms


def _json_forms(secret: str) -> set[str]:
    """Inside a JSON string: ASCII-only (`\\u00f6`) or not, `/` as it is or as `\\/`."""
    forms = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    return forms | {form.replace("/", "\\/") for form in forms}


def _base64_cores(secret: str) -> set[str]:
    """What the secret contributes to the base64 of any text that contains it, at each of the
    three byte alignments: so `base64("user:" + password)` in a Basic-auth header is masked
    (the characters that also depend on the bytes around the secret are left out)."""
    data = secret.encode("utf-8")
    whole = base64.b64encode(data).decode("ascii")  # the secret on its own, padding and all
    cores: set[str] = {whole, whole.replace("+", "-").replace("/", "_")}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        first = -(-8 * offset // 6)  # the first character made of the secret's bits alone
        last = 8 * (offset + len(data)) // 6  # one past the last such character
        core = encoded[first:last]
        if len(core) >= _MIN_BASE64_CORE:
            cores |= {core, core.replace("+", "-").replace("/", "_")}  # and base64url
    return cores


def _escaped_forms(text: str) -> set[str]:
    """`text` as it is, JSON- and HTML-escaped, and nested (JSON in HTML, HTML in JSON)."""
    html_written = {
        html.escape(text, quote=True),
        html.escape(text, quote=False),
        *_html_forms(text),
    }
    json_written = _json_forms(text)
    common_html = {html.escape(text, quote=True), html.escape(text, quote=False)}
    nested: set[str] = set()
    for once in common_html:
        nested |= _json_forms(once)  # an escaped message kept in a JSON document
        nested |= {html.escape(once, quote=True), html.escape(once, quote=False)}  # twice
        for inner in _json_forms(once):  # pytest-html: escaped log, in JSON, in an attribute
            nested |= _html_forms(inner)
    for inner in json_written:
        nested |= _html_forms(inner)  # a JSON document shown in a page
    return {text, *html_written, *json_written, *nested}


def variants(secret: str) -> set[str]:
    """The forms a value takes when it is written into URLs, form bodies, JSON, HTML (and JSON
    in HTML, HTML in JSON), a Python repr (Allure's parameters: `Page(path='...')`), or
    base64."""
    forms = _url_forms(secret) | _base64_cores(secret)
    for written in (secret, repr(secret)[1:-1], ascii(secret)[1:-1]):
        forms |= _escaped_forms(written)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class _Trie(dict[str, "_Trie"]):
    """A prefix tree of words: a character to the rest; the key "" marks a word's end."""


def _alternation(words: Iterable[str]) -> str:
    """One regular expression matching any of `words`, the longest where several start at one
    place: a prefix tree, so each position of the text is tried against a few first characters
    rather than against every word."""
    trie = _Trie()
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, _Trie())
        node[""] = _Trie()

    def pattern(node: _Trie) -> str:
        out = ""
        while True:  # a chain of single characters needs no group (nor a recursion)
            branches = [k for k in node if k]
            if len(branches) != 1 or "" in node:
                break
            out += re.escape(branches[0])
            node = node[branches[0]]
        if not branches:
            return out
        alternatives = "|".join(re.escape(k) + pattern(node[k]) for k in sorted(branches))
        # greedy `?`: the longer word first, this word's end after
        return out + f"(?:{alternatives})" + ("?" if "" in node else "")

    return pattern(trie)


@lru_cache(maxsize=64)
def _compiled(secrets: frozenset[str]) -> tuple[frozenset[str], re.Pattern[str] | None]:
    """The forms of a set of secrets and the expression that finds them, worked out once per
    set (`Environment.redactor` makes a new `Redactor` each time it is asked)."""
    forms: set[str] = set()
    for secret in secrets:
        forms |= variants(secret)
    return frozenset(forms), re.compile(_alternation(forms)) if forms else None


@dataclass(frozen=True)
class Redactor:
    """Replaces every known secret value, in each form it can be written in, with a mask."""

    secrets: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        return cls(
            frozenset(
                s for s in secrets if len(s) >= MIN_SECRET_LENGTH and s.lower() not in NOT_SECRETS
            )
        )

    def merged(self, other: Iterable[str]) -> Redactor:
        return Redactor.of([*self.secrets, *other])

    @property
    def forms(self) -> frozenset[str]:
        """Every written form of every secret."""
        return _compiled(self.secrets)[0]

    @property
    def _pattern(self) -> re.Pattern[str] | None:
        return _compiled(self.secrets)[1]

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return text
        out: list[str] = []
        done = 0  # text[:done] is written (or masked)
        match = pattern.search(text)
        while match is not None:
            start, end = match.span()
            # a form may also start inside this one (`xxab` and `abcdefgh` in `xxabcdefgh`):
            # look again from the next character, and grow the span while matches overlap
            following = pattern.search(text, start + 1)
            while following is not None and following.start() <= end:
                end = max(end, following.end())
                following = pattern.search(text, following.start() + 1)
            out += [text[done:start], MASK]
            done = end
            match = following
        out.append(text[done:])
        return "".join(out)

    def contains_secret(self, text: str) -> bool:
        pattern = self._pattern
        return pattern is not None and pattern.search(text) is not None

    def __bool__(self) -> bool:
        return bool(self.secrets)
