"""The release version on every instance: what each one says it runs, which ones were not
reached at all (missing evidence, not a wrong version), and which ones run something else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx
import jsonpath

from releasegate.checks.transport import describe_error, is_unreachable


@dataclass(frozen=True)
class VersionSource:
    """Where an application says which version it runs: a JSON field of `path` (`key`, a name
    or a JSONPath such as `$.versions.app`), a response header, or a `<meta name=...>` tag.
    With `path = ""` (no version endpoint) the header and the meta tag are read from `/`."""

    path: str = "/api/version"
    key: str = "version"
    header: str | None = None
    meta: str | None = None

    @property
    def url_path(self) -> str:
        return self.path or "/"

    @property
    def enabled(self) -> bool:
        """Whether there is anywhere to look at all."""
        return bool(self.path or self.header or self.meta)

    def describe(self) -> str:
        """`'version'`, `header X-App-Version or <meta name="app-version">`..."""
        ways = []
        if self.header:
            ways.append(f"header {self.header}")
        if self.meta:
            ways.append(f'<meta name="{self.meta}">')
        if self.path:
            ways.append(repr(self.key))
        return " or ".join(ways)


class _MetaFinder(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name.lower()
        self.content: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta" or self.content is not None:
            return
        found = dict(attrs)
        named = (found.get("name") or found.get("property") or "").lower()
        if named == self.name:
            self.content = found.get("content")


def _scalar(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def version_in(response: httpx.Response, source: VersionSource) -> str | None:
    """The version the answer states, looked for as `source` says (header first, then the meta
    tag, then the JSON field); None when it states none."""
    if source.header:
        found = _scalar(response.headers.get(source.header))
        if found:
            return found
    if source.meta and "html" in response.headers.get("content-type", ""):
        finder = _MetaFinder(source.meta)
        finder.feed(response.text)
        found = _scalar(finder.content)
        if found:
            return found
    if not source.path:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if source.key.startswith("$"):
        matches = jsonpath.findall(source.key, body)
        return _scalar(matches[0]) if matches else None
    return _scalar(body.get(source.key)) if isinstance(body, dict) else None


@dataclass(frozen=True)
class InstanceVersion:
    """What one instance says it runs (None with `error` when it did not say)."""

    url: str
    version: str | None
    error: str | None = None
    unreachable: bool = False  # no HTTP answer at all: a transport error


def read_version(
    client: httpx.Client, instance: str, source: VersionSource, timeout_s: float
) -> InstanceVersion:
    """GET the instance's version as `source` says; never raises for the target's faults."""
    url = instance.rstrip("/") + source.url_path
    try:
        response = client.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return InstanceVersion(instance, None, describe_error(exc), unreachable=is_unreachable(exc))
    if response.status_code != 200:
        return InstanceVersion(instance, None, f"GET {url} answered {response.status_code}")
    version = version_in(response, source)
    if version is not None:
        return InstanceVersion(instance, version)
    if not (source.header or source.meta):
        try:
            response.json()
        except ValueError:
            return InstanceVersion(instance, None, f"GET {url} did not answer JSON")
    return InstanceVersion(instance, None, f"GET {url}: no {source.describe()} in the answer")


def unreachable_instances(answers: Sequence[InstanceVersion]) -> str | None:
    """The instances that could not be reached at all, as a message; None when all answered
    (an instance that answered anything, even a 500, was reached)."""
    lost = [a for a in answers if a.unreachable]
    if not lost:
        return None
    listed = "; ".join(f"{a.url}: {a.error}" for a in lost)
    return (
        f"{len(lost)} of {len(answers)} instances could not be reached (1 attempt each):"
        f" {listed}; is the instance up and the URL right?"
    )


def disagreeing(expected: str, answers: Sequence[InstanceVersion]) -> list[InstanceVersion]:
    """The instances that do not run `expected` (or did not say what they run)."""
    return [a for a in answers if a.version != expected]


def describe(answers: Sequence[InstanceVersion]) -> str:
    return "; ".join(f"{a.url}: {a.version or a.error}" for a in answers)
