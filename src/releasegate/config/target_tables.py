"""`[target]`, `[reference]`, `[[endpoints]]`, `[[pages]]` and `[openapi]`: where the gates point,
how they talk to it, and the API endpoints, HTML pages and API contract the smoke gate checks."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from releasegate.config.strict_base import (
    HttpMethod,
    HttpUrl,
    JsonKey,
    OptionalUrlPath,
    Pattern,
    Seconds,
    StrictModel,
    UrlPath,
    check_url,
)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BasicAuth(StrictModel):
    """HTTP Basic credentials for every request the gates send (the password from a ${VAR});
    the base64 of `username:password` is masked wherever it is written, as the password is."""

    username: str
    password: str

    def header(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"


class TargetConfig(StrictModel):
    """Where the gates point and how they talk to it."""

    base_url: HttpUrl | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # sent as `Authorization: Basic ...` with `headers` (probes, samples, load, the browser)
    basic_auth: BasicAuth | None = None
    read_only: bool | None = None
    required_env: list[str] = Field(default_factory=list)
    timeout: Seconds = 5.0
    retries: int = Field(default=2, ge=0, le=10)
    verify_tls: bool = True
    # "" when the application has no health endpoint: the health checks skip, saying so
    health_path: OptionalUrlPath = "/api/health"
    # releasegate, health+json (IETF draft), spring (Actuator), status (HTTP 2xx is up), or
    # auto: the first of these the answer fits (the report says which)
    health_format: Literal["auto", "releasegate", "health+json", "spring", "status"] = "auto"
    # with the status format (or auto falling back to it): a 2xx answer must also contain this
    health_expect_text: str | None = None
    # "" when the application has no version endpoint: the version is read from `/` by
    # `version_header` or `version_meta`, and without either the version checks skip
    version_path: OptionalUrlPath = "/api/version"
    # the JSON field that holds it: a name, or a JSONPath such as "$.versions.app"
    version_key: JsonKey = "version"
    version_header: str | None = None  # e.g. "X-App-Version", read first when set
    version_meta: str | None = None  # e.g. "app-version" for <meta name="app-version" content=..>
    # a URL that answers whenever this runner's network works (another service of the same
    # network, a status page): with it, a target that cannot be reached is ROLLBACK, not HOLD
    canary_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _basic_auth_header(self) -> TargetConfig:
        if self.basic_auth is None:
            return self
        if any(name.lower() == "authorization" for name in self.headers):
            raise ValueError("basic_auth and an Authorization header cannot both be set")
        # every client takes `headers`: the credentials go wherever the headers go
        self.headers["Authorization"] = self.basic_auth.header()
        return self


class ReferenceConfig(StrictModel):
    """The bundled reference service, started by the plugin on a free loopback port."""

    start: bool = False
    host: Literal["127.0.0.1", "::1", "localhost"] = "127.0.0.1"
    faults: list[str] = Field(default_factory=list)
    api_token: str | None = None
    database_url: str | None = None
    service_version: str = "1.0.0"
    # also start a Prometheus scraping it every second (the SLO gate's metrics source)
    prometheus: bool = False


class Endpoint(StrictModel):
    """An API endpoint the smoke gate calls, with what it must answer."""

    path: UrlPath
    method: HttpMethod = "GET"
    name: str | None = None
    expect_status: int | list[int] = 200
    expect_text: str | None = None
    expect_json: dict[str, Any] | None = None
    timeout: Seconds | None = None
    blocking: bool = True
    # the load gate's default locustfile calls each endpoint `weight` times as often as one of
    # weight 1 (0: never under load)
    weight: int = Field(default=1, ge=0, le=1000)
    # changes data (default: POST, PUT, PATCH, DELETE): skipped on read-only environments, by
    # the smoke gate and under load
    writes: bool | None = None

    @property
    def check_id(self) -> str:
        return self.name or f"{self.method} {self.path}"

    @property
    def changes_data(self) -> bool:
        return self.writes if self.writes is not None else self.method in WRITE_METHODS

    @property
    def statuses(self) -> tuple[int, ...]:
        s = self.expect_status
        return tuple(s) if isinstance(s, list) else (s,)


def _check_url_glob(pattern: str) -> str:
    # matched against whole URLs: a bare `plausible.io/api/event` would never match, and a
    # check that can never pass (or never fail) is worse than none
    if not pattern.strip():
        raise ValueError("a URL pattern must not be empty")
    if not (pattern.startswith(("*", "?", "[")) or "://" in pattern):
        raise ValueError(
            f"{pattern!r} is matched against whole URLs (shell-style glob): start it with a"
            f" scheme or a *, e.g. 'https://{pattern}' or '*{pattern}'"
        )
    return pattern


UrlGlob = Annotated[str, AfterValidator(_check_url_glob)]


class Page(StrictModel):
    """An HTML page: loaded over HTTP by the smoke gate, and in a real browser unless
    `browser = false` (thresholds default to the `[browser]` table's)."""

    path: UrlPath
    name: str | None = None
    expect_status: int = 200
    expect_text: str | None = None
    timeout: Seconds | None = None
    blocking: bool = True
    # in the browser: a CSS or Playwright selector that must be visible
    expect_selector: str | None = None
    browser: bool = True
    # also check it on a phone: true for `[browser] mobile_device`, or a Playwright device name
    mobile: bool | str = False
    load_max: Seconds | None = None
    lcp_max: Seconds | None = None
    cls_max: float | None = Field(default=None, ge=0)
    console_allow: list[Pattern] = Field(default_factory=list)
    # URL globs the page must send while it loads (an error tracker's envelope, an analytics
    # beacon), and must not (a development API host, `http://*`); judged from the visit's log
    expect_requests: list[UrlGlob] = Field(default_factory=list)
    forbid_requests: list[UrlGlob] = Field(default_factory=list)

    @property
    def check_id(self) -> str:
        return self.name or self.path


def _check_document_url(value: str) -> str:
    return value if value.startswith("/") else check_url(value)


class OpenApiConfig(StrictModel):
    """`[openapi]`: the API's OpenAPI document (3.0 or 3.1, JSON or YAML). The smoke gate checks
    every documented operation against it with schemathesis: one check per operation."""

    # a path on the target ("/openapi.json") or an absolute URL; or `path`: a file in the repository
    url: Annotated[str, AfterValidator(_check_document_url)] | None = None
    path: str | None = None
    # where the documented paths are mounted on the target; default: the path of the document's
    # first `servers` URL ("/api/v1"), or none
    base_path: OptionalUrlPath | None = None
    # generated requests per operation (valid by the document's schemas); each operation also
    # stops at `time_limit`
    max_examples: int = Field(default=10, ge=1, le=1000)
    time_limit: Seconds = 30.0
    # which operations: by tag, method and documented path template ("/api/tickets/{id}")
    tags: list[str] = Field(default_factory=list)
    methods: list[HttpMethod] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    exclude_paths: list[str] = Field(default_factory=list)
    blocking: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> OpenApiConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("give the document as `url` (on the target, or absolute) or `path`")
        return self
