"""`provider = "web"`: GET (or POST a JSON body to) a URL, take the value from the JSON answer
by `jsonpath` or `jmespath` (or the whole body: a number, or JSON). The environment's headers go
with requests to the target's own origin only, so its credentials never reach another host.
Not 2xx, no answer, or not JSON is a provider error; a path that matches nothing is no data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from releasegate.errors import ProviderError
from releasegate.metrics.provider import Reading, normalise, parse_text


@dataclass(frozen=True)
class WebProvider:
    url: str  # absolute
    method: str = "GET"
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    jsonpath: str | None = None
    jmespath: str | None = None
    timeout_s: float = 10.0
    verify_tls: bool = True

    @property
    def where(self) -> str:
        picked = self.jsonpath or self.jmespath
        return f"{self.method} {self.url}" + (f", {picked}" if picked else "")

    def read(self) -> Reading:
        try:
            with httpx.Client(timeout=self.timeout_s, verify=self.verify_tls) as client:
                response = client.request(
                    self.method, self.url, headers=self.headers, json=self.body
                )
        except httpx.HTTPError as exc:
            raise ProviderError(f"no answer: {type(exc).__name__}: {exc} ({self.where})") from None
        if not response.is_success:
            raise ProviderError(f"answered {response.status_code} ({self.where})")
        seconds = response.elapsed.total_seconds()
        note = f"{response.status_code} in {seconds * 1000:.0f} ms"
        if self.jsonpath is None and self.jmespath is None:
            return Reading(parse_text(response.text, self.where), note)
        try:
            document = response.json()
        except ValueError:
            raise ProviderError(f"the answer is not JSON ({self.where})") from None
        value = self._pick(document)
        if value is None:
            return Reading(None, f"no data: {self.jsonpath or self.jmespath} matched nothing")
        return Reading(normalise(value), note)

    def _pick(self, document: Any) -> Any:
        if self.jmespath is not None:
            import jmespath

            return jmespath.search(self.jmespath, document)
        import jsonpath

        assert self.jsonpath is not None
        if not self.jsonpath.startswith("$"):  # a plain field name, as elsewhere in the file
            return document.get(self.jsonpath) if isinstance(document, dict) else None
        found = jsonpath.findall(self.jsonpath, document)
        if not found:
            return None
        return found[0] if len(found) == 1 else [normalise(v) for v in found]


def headers_for(url: str, target_url: str, target_headers: dict[str, str]) -> dict[str, str]:
    """The environment's headers when `url` is on the target's origin, none elsewhere."""
    ours, theirs = urlsplit(target_url), urlsplit(url)
    same = (ours.scheme, ours.hostname, ours.port) == (theirs.scheme, theirs.hostname, theirs.port)
    return dict(target_headers) if same else {}
