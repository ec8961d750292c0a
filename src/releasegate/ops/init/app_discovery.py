"""Looking at a running application the way `releasegate init` does: read-only (GET and HEAD),
same origin only, one request at a time, at most `max_requests` requests and `max_seconds`
seconds. What it finds (and what it looked for and could not find) becomes the environment file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from releasegate.checks.api_contract import (
    ContractUnavailable,
    documented_mount,
    mount_on,
    parse_document,
)
from releasegate.checks.health import recognise
from releasegate.checks.health_formats import HealthAnswer
from releasegate.checks.http_expectations import is_html
from releasegate.checks.security_headers import CHECKS, judge_header
from releasegate.ops.init.page_facts import (
    PageFacts,
    expect_text_of,
    is_page_path,
    page_facts,
    robots_sitemaps,
    same_origin_path,
    sitemap_locations,
    version_key_of,
)

HEALTH_PATHS = (
    "/api/health",
    "/health",
    "/healthz",
    "/readyz",
    "/livez",
    "/up",
    "/actuator/health",
    "/-/health",
    "/__heartbeat__",
    "/__lbheartbeat__",
    "/status",
    "/api/healthz",
)
VERSION_PATHS = (
    "/api/version",
    "/version",
    "/version.json",
    "/__version__",
    "/actuator/info",
    "/-/versions.json",
    "/api/v1/version",
    "/build-info",
    "/info",
)
OPENAPI_PATHS = (
    "/openapi.json",
    "/swagger.json",
    "/api/openapi.json",
    "/v3/api-docs",
    "/api-docs",
    "/swagger/v1/swagger.json",
    "/__api__",
    "/api/schema/",
    "/openapi.yaml",
    "/spec.json",
)
VERSION_HEADERS = ("X-App-Version", "X-Version", "X-Release", "X-Build-Version")
MAX_PAGES = 6
MAX_ENDPOINTS = 5
MAX_ASSETS = 3


@dataclass
class Answer:
    path: str
    status: int
    content_type: str
    headers: httpx.Headers
    text: str
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


@dataclass
class PageFound:
    path: str
    status: int
    expect_text: str | None


@dataclass
class Findings:
    """What `init` found, and what it looked for in vain (`missing`)."""

    base_url: str
    pages: list[PageFound] = field(default_factory=list)
    health_path: str | None = None
    health_format: str | None = None
    version_path: str | None = None
    version_key: str | None = None
    version_header: str | None = None
    version_meta: str | None = None
    openapi_path: str | None = None
    # GET operations whose answers broke the document when init tried them: path -> why
    contract_broken: dict[str, str] = field(default_factory=dict)
    contract_untried: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)  # GET paths for [[endpoints]]
    headers_present: list[str] = field(default_factory=list)  # security header checks passing
    headers_missing: dict[str, str] = field(default_factory=dict)  # check -> why it fails
    cache_paths: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    stopped_early: bool = False


class _Budget(Exception):
    """The request or time budget ran out."""


class _Looker:
    """GET/HEAD on the application's origin, within the budget; transport errors are None."""

    def __init__(
        self, base_url: str, headers: dict[str, str], max_requests: int, max_seconds: float
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.client = httpx.Client(headers=headers, timeout=5.0, follow_redirects=False)
        self.left = max_requests
        self.deadline = time.monotonic() + max_seconds
        self.seen: dict[tuple[str, str], Answer | None] = {}
        self.errors: list[str] = []

    def ask(self, path: str, method: str = "GET") -> Answer | None:
        if (method, path) in self.seen:
            return self.seen[(method, path)]
        if self.left <= 0 or time.monotonic() > self.deadline:
            raise _Budget
        self.left -= 1
        started = time.perf_counter()
        try:
            response = self.client.request(method, self.base_url + path)
        except httpx.HTTPError as exc:
            self.errors.append(f"{method} {self.base_url}{path}: {type(exc).__name__}")
            answer = None
        else:
            answer = Answer(
                path,
                response.status_code,
                response.headers.get("content-type", ""),
                response.headers,
                response.text if method == "GET" else "",
                (time.perf_counter() - started) * 1000,
            )
        self.seen[(method, path)] = answer
        return answer


def _json_like(answer: Answer) -> bool:
    return "json" in answer.content_type.lower()


def _find_health(look: _Looker, found: Findings) -> None:
    for path in HEALTH_PATHS:
        answer = look.ask(path)
        if answer is None or not answer.ok or is_html(answer.content_type):
            continue  # an HTML 200 is a catch-all page (a single-page app's), not a health check
        if not _json_like(answer) and len(answer.text) > 500:
            continue
        found.health_path = path
        found.health_format = recognise(
            HealthAnswer(look.base_url + path, answer.status, answer.content_type, answer.text)
        )
        return
    found.missing.append(f"a health endpoint (looked at {', '.join(HEALTH_PATHS)})")


def _find_version(look: _Looker, found: Findings, home: Answer | None) -> None:
    for path in VERSION_PATHS:
        answer = look.ask(path)
        if answer is None or not answer.ok or not _json_like(answer):
            continue
        key = version_key_of(answer.json())
        if key is not None:
            found.version_path, found.version_key = path, key
            return
    if home is not None:
        header = next((h for h in VERSION_HEADERS if home.headers.get(h)), None)
        if header is not None:
            found.version_header = header
            return
        facts = page_facts(home.text) if is_html(home.content_type) else PageFacts()
        meta = next((name for name in facts.metas if "version" in name), None)
        if meta is not None:
            found.version_meta = meta
            return
    found.missing.append(
        f"a version (looked at {', '.join(VERSION_PATHS)}, the {', '.join(VERSION_HEADERS)}"
        " headers and <meta> tags of /)"
    )


def _openapi_document(look: _Looker, answer: Answer) -> dict[str, Any] | None:
    try:
        return parse_document(answer.text, look.base_url + answer.path)
    except ContractUnavailable:
        return None


def _simple_gets(document: dict[str, Any], base_url: str) -> list[str]:
    """GET operations without path parameters or required query parameters, as paths on the
    target."""
    mount = mount_on(base_url, documented_mount(document))
    gets: list[str] = []
    paths = document.get("paths")
    for path, item in paths.items() if isinstance(paths, dict) else []:
        get = item.get("get") if isinstance(item, dict) else None
        if not isinstance(get, dict) or "{" in path:
            continue
        parameters = [*item.get("parameters", []), *get.get("parameters", [])]
        if any(isinstance(p, dict) and p.get("required") for p in parameters):
            continue
        gets.append(f"{mount}{path}")
    return gets


def _find_openapi(look: _Looker, found: Findings) -> None:
    for path in OPENAPI_PATHS:
        answer = look.ask(path)
        if answer is None or not answer.ok:
            continue
        document = _openapi_document(look, answer)
        if document is None:
            continue
        found.openapi_path = path
        _try_contract(look, found, path, document)
        own = {found.health_path, found.version_path}  # checked by their own checks already
        for candidate in [c for c in _simple_gets(document, look.base_url) if c not in own]:
            if len(found.endpoints) >= MAX_ENDPOINTS:
                break
            checked = look.ask(candidate)
            if checked is not None and checked.ok:
                found.endpoints.append(candidate)
                found.latencies_ms.append(checked.elapsed_ms)
        return
    found.missing.append(f"an OpenAPI document (looked at {', '.join(OPENAPI_PATHS)})")


def _try_contract(
    look: _Looker, found: Findings, document_path: str, document: dict[str, Any]
) -> None:
    """A couple of generated requests to each GET operation of the document: an operation
    whose answers break it (a real application's document often does) is left out of the
    file's contract checks, with the reason, so the file starts from what is true."""
    from releasegate.checks.api_contract import check_operation, contract_of
    from releasegate.config import OpenApiConfig
    from releasegate.errors import EvidenceMissing
    from releasegate.outcome import Judgement
    from releasegate.probe import ProbeClient

    with ProbeClient(look.base_url, headers=look.headers, retries=0) as client:
        settings = OpenApiConfig(url=document_path, methods=["GET"])
        try:  # the document init already read, not fetched again
            contract = contract_of(document, settings, look.base_url + document_path, look.base_url)
        except EvidenceMissing:
            return
        for operation in contract.operations:
            if look.left < 3 or time.monotonic() > look.deadline - 3:
                found.contract_untried.append(operation.path)
                continue
            try:
                judged = check_operation(
                    contract, operation, client, max_examples=2, time_limit_s=3
                )
            except EvidenceMissing:
                found.contract_untried.append(operation.path)
                continue
            look.left -= judged.samples or 0
            if judged.judgement is Judgement.FAIL:
                found.contract_broken[operation.path] = " ".join(judged.message.splitlines()[1:3])


def _candidate_pages(look: _Looker, home: Answer | None) -> list[str]:
    base = look.base_url
    located: list[str] = []
    robots = look.ask("/robots.txt")
    sitemaps = robots_sitemaps(robots.text) if robots is not None and robots.ok else []
    for sitemap in [*sitemaps, f"{base}/sitemap.xml"][:3]:
        path = same_origin_path(base, base + "/", sitemap)
        answer = look.ask(path) if path is not None else None
        if answer is None or not answer.ok:
            continue
        for location in sitemap_locations(answer.text):
            page = same_origin_path(base, base + "/", location)
            if page is not None and is_page_path(page) and page not in located:
                located.append(page)
        if located:
            return located
    if home is None or not is_html(home.content_type):
        return []
    links = page_facts(home.text).links
    paths = [same_origin_path(base, base + home.path, href) for href in links]
    return list(dict.fromkeys(p for p in paths if p is not None and is_page_path(p)))


def _add_page(look: _Looker, found: Findings, path: str, html_only: bool = False) -> Answer | None:
    answer = look.ask(path)
    if answer is None or not (answer.ok or 300 <= answer.status < 400):
        return answer
    if html_only and not is_html(answer.content_type):
        # an API answer linked from a page: not a page, but an endpoint worth a smoke check
        known = {found.health_path, found.version_path, *found.endpoints}
        wanted = answer.ok and _json_like(answer) and len(found.endpoints) < MAX_ENDPOINTS
        if wanted and path not in known:
            found.endpoints.append(path)
            found.latencies_ms.append(answer.elapsed_ms)
        return answer
    text = expect_text_of(page_facts(answer.text)) if is_html(answer.content_type) else None
    found.pages.append(PageFound(path, answer.status, text))
    found.latencies_ms.append(answer.elapsed_ms)
    return answer


def _judge_headers(found: Findings, answer: Answer, https: bool) -> None:
    for check in CHECKS:
        if check == "hsts" and not https:
            continue  # browsers ignore HSTS over http: not judged there by default
        judged = judge_header(check, answer.headers)
        if judged.ok:
            found.headers_present.append(check)
        else:
            found.headers_missing[check] = judged.message


def _find_cache(look: _Looker, found: Findings, home: Answer) -> None:
    base = look.base_url
    assets = [same_origin_path(base, base + home.path, a) for a in page_facts(home.text).assets]
    for asset in [a for a in assets if a is not None][:MAX_ASSETS]:
        answer = look.ask(asset, "HEAD")
        control = answer.headers.get("cache-control", "") if answer is not None else ""
        cached = "max-age=" in control and not control.split("max-age=", 1)[1].startswith("0")
        if answer is not None and answer.ok and cached and "private" not in control:
            found.cache_paths.append(asset)
    if not found.cache_paths:
        found.missing.append("an asset served with Cache-Control max-age (no [cache] checks)")


def discover(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    max_requests: int = 100,
    max_seconds: float = 30.0,
) -> Findings:
    """Look at the application at `base_url` and say what a gate could check there."""
    look = _Looker(base_url, headers or {}, max_requests, max_seconds)
    found = Findings(look.base_url)
    started = time.monotonic()
    try:
        home = _add_page(look, found, "/")
        if home is None:
            raise ConnectionError(
                f"GET {look.base_url}/ got no answer ({'; '.join(look.errors) or 'no reason'}):"
                " is the application running at that URL?"
            )
        first_page = home
        if 300 <= home.status < 400 and home.headers.get("location"):
            moved = same_origin_path(look.base_url, look.base_url + "/", home.headers["location"])
            landed = _add_page(look, found, moved) if moved is not None else None
            first_page = landed if landed is not None and landed.ok else home
        if first_page.ok:
            _judge_headers(found, first_page, base_url.startswith("https://"))
        _find_health(look, found)
        _find_version(look, found, first_page)
        _find_openapi(look, found)
        for path in _candidate_pages(look, first_page):
            if len(found.pages) >= MAX_PAGES:
                break
            if path not in {p.path for p in found.pages}:
                _add_page(look, found, path, html_only=True)
        if first_page.ok and is_html(first_page.content_type):
            _find_cache(look, found, first_page)
    except _Budget:
        found.stopped_early = True
    finally:
        look.client.close()
    found.requests = sum(1 for _ in look.seen)
    found.seconds = time.monotonic() - started
    return found
