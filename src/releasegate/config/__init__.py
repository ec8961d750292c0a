"""Environment files: `environments/<name>.toml` -> a validated, frozen `Environment`.

One loader for the CLI and the pytest plugin. It reads TOML with the standard library, resolves
`extends`, interpolates `${VAR}` / `${VAR:-default}` from the process environment (recording every
value that came from a variable as a secret), then validates with pydantic models that refuse
unknown keys. Every problem becomes a one-line `ConfigError` naming the file and the key path.
"""

from __future__ import annotations

import base64
import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from releasegate.errors import ConfigError
from releasegate.redact import MIN_SECRET_LENGTH, Redactor
from releasegate.stages import STAGES, Stage
from releasegate.units import parse_duration, parse_ratio

ENV_VAR = "RELEASEGATE_ENV"
ENV_DIR_VAR = "RELEASEGATE_ENV_DIR"
DEFAULT_ENV_DIR = "environments"
EXAMPLE_SUFFIX = ".example"

HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host (got {value!r})")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily, on access
    except ValueError:
        raise ValueError(f"has an invalid port (got {value!r})") from None
    return value.rstrip("/")


def _check_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"must start with '/' (got {value!r})")
    return value


def _check_pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression ({exc}): {value!r}") from None
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Ratio = Annotated[float, BeforeValidator(parse_ratio)]
HttpUrl = Annotated[str, AfterValidator(_check_url)]
UrlPath = Annotated[str, AfterValidator(_check_path)]
Pattern = Annotated[str, AfterValidator(_check_pattern)]


class BasicAuth(_Strict):
    """HTTP Basic credentials for every request the gates send (the password from a ${VAR});
    the base64 of `username:password` is masked wherever it is written, as the password is."""

    username: str
    password: str

    def header(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"


class TargetConfig(_Strict):
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
    health_path: UrlPath = "/api/health"
    version_path: UrlPath = "/api/version"
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


class ReferenceConfig(_Strict):
    """The bundled reference service, started by the plugin on a free loopback port."""

    start: bool = False
    host: Literal["127.0.0.1", "::1", "localhost"] = "127.0.0.1"
    faults: list[str] = Field(default_factory=list)
    api_token: str | None = None
    database_url: str | None = None
    service_version: str = "1.0.0"
    # also start a Prometheus scraping it every second (the SLO gate's metrics source)
    prometheus: bool = False


class Endpoint(_Strict):
    """An API endpoint the smoke gate calls, with what it must answer."""

    path: UrlPath
    method: HttpMethod = "GET"
    name: str | None = None
    expect_status: int | list[int] = 200
    expect_text: str | None = None
    expect_json: dict[str, Any] | None = None
    timeout: Seconds | None = None
    blocking: bool = True

    @property
    def check_id(self) -> str:
        return self.name or f"{self.method} {self.path}"

    @property
    def statuses(self) -> tuple[int, ...]:
        s = self.expect_status
        return tuple(s) if isinstance(s, list) else (s,)


class Page(_Strict):
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

    @property
    def check_id(self) -> str:
        return self.name or self.path


class BrowserLogin(_Strict):
    """The account browser flows sign in with (the password should come from a ${VAR})."""

    path: UrlPath = "/login"
    username: str
    password: str


class BrowserConfig(_Strict):
    """The browser gate: page checks and flows in a real Chromium (Playwright)."""

    enabled: bool = True
    # Chromium or Chrome to drive; else $RELEASEGATE_CHROMIUM, Playwright's own, then PATH
    executable: str | None = None
    headless: bool = True
    # per navigation and per action of a flow
    timeout: Seconds = 15.0
    # defaults from the seeds' checklists: page load under 5 s, LCP under 2.5 s, CLS under 0.1
    load_max: Seconds = 5.0
    lcp_max: Seconds = 2.5
    cls_max: float = Field(default=0.1, ge=0)
    # console errors that are known and accepted (regular expressions, searched)
    console_allow: list[Pattern] = Field(default_factory=list)
    mobile_device: str = "Pixel 7"
    # "on-failure": screenshot, trace, console log and HAR of failed checks; "always": of all
    artefacts: Literal["on-failure", "always"] = "on-failure"
    # sent by the browser with every request, e.g. a preview-protection bypass header
    headers: dict[str, str] = Field(default_factory=dict)
    # set for the target's host before every page and flow: name -> value
    cookies: dict[str, str] = Field(default_factory=dict)
    # flows (`@pytest.mark.flow("name")`, shell patterns) to run here: a flow walks one
    # application's pages, so each environment opts in to the flows written for it
    flows: list[str] = Field(default_factory=list)
    login: BrowserLogin | None = None


class SyntheticConfig(_Strict):
    """The SLO gate's own requests to the target: bounded in count, rate and time."""

    enabled: bool = True
    # "GET /api/tickets" or "/api/tickets"; empty: every GET of [[endpoints]]
    endpoints: list[str] = Field(default_factory=list)
    requests: int = Field(default=400, ge=1, le=100_000)
    concurrency: int = Field(default=4, ge=1, le=64)
    rate: float = Field(default=100.0, gt=0)  # requests per second at most
    duration: Seconds = 30.0  # at most; the run stops at whichever limit comes first


MIN_INCREASE_FLOOR_MS = 5.0


class BaselineConfig(_Strict):
    """Comparison with the latency measured before the deploy (baseline.json)."""

    # a baseline.json; empty: the newest one under reports/ for this environment and target
    file: str | None = None
    required: bool = False
    # in each tail of the shift's interval (a 1 - 2 alpha interval), and of the power calculation
    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    # the smallest slowdown that counts: the shift above this share of the baseline's median...
    min_increase: Ratio = 0.2
    # ...and above this many ms; None: max(5 ms, 10 % of the tightest latency objective)
    min_increase_ms: float | None = Field(default=None, ge=0)
    # a baseline taken longer ago than this (by the time it records) is no baseline
    max_age: Seconds = 86_400.0


class BurnWindow(_Strict):
    """One multi-window alert of the SRE workbook: both windows above `factor` x budget."""

    long: str
    short: str
    factor: float = Field(gt=0)


def _default_burn_windows() -> list[BurnWindow]:
    # for a 30-day objective: 2 % of the budget in an hour, 5 % in six hours
    return [
        BurnWindow(long="1h", short="5m", factor=14.4),
        BurnWindow(long="6h", short="30m", factor=6.0),
    ]


class PrometheusConfig(_Strict):
    """Where the target's metrics are, and the PromQL that reads the SLIs from them.
    `{window}` and `{quantile}` in a query are replaced (e.g. by `5m`, `0.95`)."""

    # not needed when [reference] prometheus = true starts one
    url: HttpUrl | None = None
    window: str = "5m"
    timeout: Seconds = 10.0
    latency_query: str = (
        "histogram_quantile({quantile}, sum by (le)"
        " (rate(http_request_duration_seconds_bucket[{window}])))"
    )
    requests_query: str = "sum(increase(http_requests_total[{window}]))"
    error_ratio_query: str = (
        '(sum(rate(http_requests_total{status=~"5.."}[{window}])) or vector(0))'
        " / sum(rate(http_requests_total[{window}]))"
    )
    # `or vector(0)`: no error (or 429) yet means no series at all, which is a ratio of 0
    rate_limited_query: str = (
        "(sum(rate(http_rate_limited_total[{window}])) or vector(0))"
        " / sum(rate(http_requests_total[{window}]))"
    )
    burn_windows: list[BurnWindow] = Field(default_factory=_default_burn_windows)


class SloConfig(_Strict):
    """Service-level objectives; the SLO gate judges against them."""

    latency_p50_ms: float | None = Field(default=None, gt=0)
    latency_p95_ms: float | None = Field(default=None, gt=0)
    latency_p99_ms: float | None = Field(default=None, gt=0)
    error_ratio_max: Ratio | None = None
    availability_min: Ratio | None = None
    rate_limited_max: Ratio | None = None
    # of every interval the gate computes; an interval across a threshold is inconclusive
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    prometheus: PrometheusConfig | None = None

    def regression_floor_ms(self) -> float:
        """The absolute part of the minimum increase against the baseline: `[slo.baseline]
        min_increase_ms`, else the larger of 5 ms (below it, a shift is within what a shared
        runner and the network add on their own) and a tenth of the tightest latency objective
        (a tenth of the budget is worth a ROLLBACK; less is not)."""
        if self.baseline.min_increase_ms is not None:
            return self.baseline.min_increase_ms
        objectives = [
            v for v in (self.latency_p50_ms, self.latency_p95_ms, self.latency_p99_ms) if v
        ]
        return max(MIN_INCREASE_FLOOR_MS, 0.1 * min(objectives, default=0.0))


class PolicyConfig(_Strict):
    """How evidence turns into a verdict (recorded in results.json, so `decide` needs no file)."""

    on_inconclusive: Literal["hold", "rollback"] = "hold"
    # stages whose failures decide; the others are measured and shown ("dry run")
    blocking_stages: list[Stage] = Field(default_factory=lambda: list(STAGES))
    # check ids (shell-style patterns) that never vote, e.g. "*test_page[/blog]"
    advisory_checks: list[str] = Field(default_factory=list)
    # stages that must have results in every run, whether or not they were asked for
    required_stages: list[Stage] = Field(default_factory=list)
    # failed blocking checks a stage may have before it fails the release (Argo's failureLimit)
    max_failed: dict[Stage, int] = Field(default_factory=dict)
    # a failed check is run again up to this many times; passing on a retry makes it flaky
    retries: int = Field(default=0, ge=0, le=5)
    # flaky checks allowed in a run; more is inconclusive (never silently green)
    max_flaky: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _limits_are_not_negative(self) -> PolicyConfig:
        negative = {stage: n for stage, n in self.max_failed.items() if n < 0}
        if negative:
            raise ValueError(f"max_failed must be >= 0 per stage (got {negative})")
        return self


LoadProfile = Literal["smoke-load", "ramp", "spike", "soak", "thousand-users"]


class LoadThresholds(_Strict):
    """What the load stage must achieve; each is one check."""

    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    failure_ratio_max: Ratio | None = None
    rps_min: float | None = Field(default=None, ge=0)


class EndpointLoadThresholds(_Strict):
    """One endpoint's own latency limits (by Locust's request name, e.g. "GET /api/tickets")."""

    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)


class LoadConfig(_Strict):
    """The load gate: which Locust profile, how hard, and the guardrails around it."""

    # read-only environments refuse load unless this is true
    allowed: bool | None = None
    locustfile: str = "loadtests/reference.py"
    profile: LoadProfile = "smoke-load"
    # the profile's peak users, spawn rate and length (soak: the whole run)
    users: int = Field(default=10, ge=1)
    spawn_rate: float = Field(default=10.0, gt=0)
    duration: Seconds = 10.0
    # think time of each simulated user between tasks (realistic waits: "1s".."5s")
    wait_min: Annotated[float, BeforeValidator(parse_duration), Field(ge=0)] = 0.5
    wait_max: Annotated[float, BeforeValidator(parse_duration), Field(ge=0)] = 1.5
    # Locust worker processes under a local master (0: one process)
    workers: int = Field(default=0, ge=0, le=64)
    # workers started elsewhere (`releasegate load worker`) that the master waits for
    expect_workers: int = Field(default=0, ge=0)
    worker_wait: Seconds = 30.0
    # where the master listens for workers: loopback unless workers come from other hosts
    master_bind: str = "127.0.0.1"
    master_port: int | None = Field(default=None, ge=1, le=65535)
    # guardrails, checked before start and enforced while running
    max_users: int = Field(default=100, ge=1)
    max_spawn_rate: float = Field(default=100.0, gt=0)
    max_duration: Seconds = 300.0
    max_requests: int = Field(default=1_000_000, ge=1)
    # fewer requests than this cannot judge anything: inconclusive
    min_requests: int = Field(default=20, ge=1)
    # stop early when the failure ratio stays above this for `abort_after`
    abort_failure_ratio: Ratio | None = None
    abort_after: Seconds = 5.0
    thresholds: LoadThresholds = Field(default_factory=LoadThresholds)
    endpoints: dict[str, EndpointLoadThresholds] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _within_caps(self) -> LoadConfig:
        thousand = self.profile == "thousand-users"
        peak = 1000 if thousand else self.users
        if peak > self.max_users:
            why = " (profile thousand-users runs 1000)" if thousand else ""
            raise ValueError(f"users {peak} exceeds max_users {self.max_users}{why}")
        if self.spawn_rate > self.max_spawn_rate:
            raise ValueError(
                f"spawn_rate {self.spawn_rate:g} exceeds max_spawn_rate {self.max_spawn_rate:g}"
            )
        if self.duration > self.max_duration:
            raise ValueError(
                f"duration {self.duration:g}s exceeds max_duration {self.max_duration:g}s"
            )
        if self.wait_min > self.wait_max:
            raise ValueError(f"wait_min {self.wait_min:g}s exceeds wait_max {self.wait_max:g}s")
        return self


Command = str | list[str]
VerdictName = Literal["GO", "ROLLBACK", "HOLD"]
ALL_VERDICTS: tuple[VerdictName, ...] = ("GO", "ROLLBACK", "HOLD")


class RollbackConfig(_Strict):
    """What to run when the verdict is ROLLBACK (only with --execute-rollback)."""

    command: Command | None = None
    on_hold: Command | None = None
    timeout: Seconds = 300.0
    cwd: str | None = None


class NotifyConfig(_Strict):
    """Where to send the verdict. Failures are recorded and never change it."""

    webhook_url: HttpUrl | None = None
    format: Literal["slack", "json"] = "json"
    timeout: Seconds = 10.0
    retries: int = Field(default=2, ge=0, le=5)
    on: list[VerdictName] = Field(default_factory=lambda: list(ALL_VERDICTS))
    report_url: str | None = None  # where the published site lives, for links


# --- pre-deploy and post-deploy -------------------------------------------------------------


class SecretScanConfig(_Strict):
    """`[secret_scan]`: committed secrets, found by detect-secrets under `root` (relative to
    the repository: the environment folder's parent)."""

    enabled: bool = True
    root: str = "."
    # detect-secrets' baseline (`detect-secrets scan > .secrets.baseline` run in `root`), relative
    # to `root`; used when the file exists: the secrets it lists are known, not reported
    baseline: str | None = ".secrets.baseline"
    exclude: list[str] = Field(default_factory=list)  # globs relative to root
    max_files: int = Field(default=20_000, ge=1)


class TlsConfig(_Strict):
    """`[tls]`: the target's certificate (when https) and any other `hosts`."""

    min_days: float = Field(default=14.0, ge=0)
    hosts: list[str] = Field(default_factory=list)  # "host:port" or https:// URLs
    ca_file: str | None = None  # an extra CA bundle (a private CA), relative to the repository
    timeout: Seconds = 5.0


class MigrationsConfig(_Strict):
    """`[database.migrations]`: alembic's script directory, or a query for the version."""

    alembic: str | None = None  # the script_location, relative to the repository
    version_query: str | None = None
    expected_version: str | None = None
    reversible: bool = False  # upgrade, downgrade one, upgrade again on a scratch database

    @model_validator(mode="after")
    def _one_source(self) -> MigrationsConfig:
        if (self.alembic is None) == (self.version_query is None):
            raise ValueError("set exactly one of alembic or version_query")
        if self.version_query is not None and not self.expected_version:
            raise ValueError("version_query needs expected_version")
        if self.reversible and self.alembic is None:
            raise ValueError("reversible needs alembic (a script directory to run)")
        return self


class SanityQueryConfig(_Strict):
    """One query run on the restored backup; it returns one value, judged by min/max/equals."""

    name: str
    sql: str
    min: float | None = None
    max: float | None = None
    equals: str | None = None


class BackupConfig(_Strict):
    """`[database.backup]`: the newest backup is fresh and restorable."""

    glob: str | None = None  # pg_dump files; relative to the repository unless absolute
    command: Command | None = None  # or a command printing when the last backup was taken
    max_age: Seconds = 24 * 3600.0
    restore: bool = True
    restore_timeout: Seconds = 600.0
    sanity: list[SanityQueryConfig] = Field(default_factory=list)
    # the directory of pg_restore and psql; default: the newest /usr/lib/postgresql/*/bin, PATH
    pg_bin: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BackupConfig:
        if (self.glob is None) == (self.command is None):
            raise ValueError("set exactly one of glob or command")
        if self.command is not None and self.restore:
            raise ValueError("restore needs glob (a file to restore); set restore = false")
        return self


class DatabaseConfig(_Strict):
    """`[database]`: the target's PostgreSQL, as the gate reaches it (usually ${DATABASE_URL})."""

    url: str
    query: str = "SELECT 1"
    query_max: Seconds = 0.2
    timeout: Seconds = 5.0
    migrations: MigrationsConfig | None = None
    backup: BackupConfig | None = None

    @model_validator(mode="after")
    def _postgres(self) -> DatabaseConfig:
        scheme = urlsplit(self.url).scheme.partition("+")[0]
        if scheme not in ("postgresql", "postgres"):
            raise ValueError("url must be a postgresql:// URL")
        return self


class PreDeployConfig(_Strict):
    """`[pre_deploy]`: what the pre-deploy gate does besides its own tables."""

    require_healthy: bool = True  # a deploy onto a sick target is HOLD
    baseline: bool = True  # sample the key endpoints into baseline.json


HeaderCheck = Literal["csp", "hsts", "nosniff", "frame", "referrer"]


class HeadersConfig(_Strict):
    """`[headers]`: the security headers every listed path must send."""

    paths: list[UrlPath] = Field(default_factory=lambda: ["/"])
    skip: list[HeaderCheck] = Field(default_factory=list)
    hsts_min_age: Seconds = 180 * 86400.0  # six months
    hsts_on_http: bool = False  # browsers ignore HSTS over http: only judged on https


class CacheConfig(_Strict):
    """`[cache]`: key pages warmed after the deploy, and caching working as declared."""

    paths: list[UrlPath] = Field(default_factory=list)
    expect: Literal["header", "faster"] = "header"
    header: str = "Cache-Control"
    pattern: Pattern = r"max-age=[1-9]"  # what the second response's header must match
    faster_by: Ratio = 0.2  # "faster": the second hit at least this much faster
    # a shared cache (CDN, proxy) is what the check is about: `private` then forbids caching
    shared: bool = True


class PostDeployConfig(_Strict):
    """`[post_deploy]`: version on every instance, and a short error-ratio sample."""

    instances: list[HttpUrl] = Field(default_factory=list)  # default: the target itself
    release_version: str | None = None  # --release-version wins
    version_key: str = "version"
    error_ratio_max: Ratio = 0.01
    requests: int = Field(default=100, ge=1, le=10_000)
    concurrency: int = Field(default=4, ge=1, le=64)
    rate: float = Field(default=50.0, gt=0, le=1000)
    duration: Seconds = 20.0


class WatchConfig(_Strict):
    """`[watch]`: probing during a deploy (`releasegate watch`), and how its timeline is judged."""

    paths: list[UrlPath] = Field(default_factory=list)  # default: health + GET endpoints
    rate: float = Field(default=10.0, gt=0, le=100)  # probes per second, all paths together
    timeout: Seconds = 2.0
    before: Seconds = 1.0  # probing before the deploy command starts
    after: Seconds = 3.0  # and after it ends
    max_duration: Seconds = 1800.0  # the deploy command is stopped past this
    max_failed: int = Field(default=0, ge=0)
    max_gap: Seconds = 2.0  # longest time without a successful probe
    required: bool = False  # post-deploy without a timeline: HOLD instead of a skip
    max_age: Seconds = 6 * 3600.0  # an older timeline is not this deploy's


def _smoke_only() -> list[Stage]:
    return ["smoke"]


MONITOR_MAX_S = 31 * 86400.0  # a monitor is bounded; a month is the longest it may run


class MonitorConfig(_Strict):
    """`[monitor]`: `releasegate monitor` runs gates on a schedule and alerts on state changes."""

    model_config = ConfigDict(populate_by_name=True)

    every: Annotated[Seconds, Field(le=MONITOR_MAX_S)] = 300.0  # never two checks at once
    # the whole monitor's bound (`for` is a Python keyword, hence the alias)
    for_: Annotated[Seconds, Field(le=MONITOR_MAX_S)] = Field(default=24 * 3600.0, alias="for")
    stages: list[Stage] = Field(default_factory=_smoke_only, min_length=1)
    # consecutive failed checks before the down alert; fewer that recover are a blip
    alert_after: int = Field(default=2, ge=1, le=1000)
    objective: Ratio = 0.999  # availability: up checks over checks that measured
    check_timeout: Seconds = 600.0  # a gate run still going after this is a measurement problem
    # fetched when a check fails: no answer means the monitor cannot reach its own network
    # (default: [target] canary_url)
    canary_url: HttpUrl | None = None


class EnvironmentModel(_Strict):
    """The validated content of one environment file (after `extends` and `${VAR}`)."""

    description: str = ""
    abstract: bool = False
    target: TargetConfig = Field(default_factory=TargetConfig)
    reference: ReferenceConfig = Field(default_factory=ReferenceConfig)
    endpoints: list[Endpoint] = Field(default_factory=list)
    pages: list[Page] = Field(default_factory=list)
    browser: BrowserConfig = Field(default_factory=BrowserConfig)
    load: LoadConfig = Field(default_factory=LoadConfig)
    slo: SloConfig = Field(default_factory=SloConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    rollback: RollbackConfig = Field(default_factory=RollbackConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    pre_deploy: PreDeployConfig = Field(default_factory=PreDeployConfig)
    secret_scan: SecretScanConfig = Field(default_factory=SecretScanConfig)
    tls: TlsConfig = Field(default_factory=TlsConfig)
    database: DatabaseConfig | None = None
    post_deploy: PostDeployConfig = Field(default_factory=PostDeployConfig)
    headers: HeadersConfig = Field(default_factory=HeadersConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)

    @model_validator(mode="after")
    def _needs_a_target(self) -> EnvironmentModel:
        if not self.abstract and self.target.base_url is None and not self.reference.start:
            raise ValueError(
                "target.base_url is required (or [reference] start = true for the bundled service)"
            )
        ids = [e.check_id for e in self.endpoints] + [p.check_id for p in self.pages]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"endpoint/page ids must be unique; repeated: {duplicates}")
        return self


@dataclass(frozen=True)
class Environment:
    """A loaded environment: its name, where it came from, its settings and its secrets."""

    name: str
    path: Path
    model: EnvironmentModel = field(repr=False)  # holds the interpolated (secret) values
    secrets: frozenset[str] = field(default_factory=frozenset, repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def target(self) -> TargetConfig:
        return self.model.target

    @property
    def read_only(self) -> bool:
        """Explicit in the file, else writable only for `local` (DESIGN: read-only by default)."""
        if self.model.target.read_only is not None:
            return self.model.target.read_only
        return self.name != "local"

    @property
    def redactor(self) -> Redactor:
        """Every value from a ${VAR}, the values of `[target] required_env` (the production
        secrets the pre-deploy gate checks are set) and the database password: never shown."""
        hidden = {os.environ.get(name, "") for name in self.model.target.required_env}
        if self.model.database is not None:
            # a password written into the file itself is still a password
            hidden.add(urlsplit(self.model.database.url).password or "")
        return Redactor.of(self.secrets | {v for v in hidden if len(v) >= MIN_SECRET_LENGTH})

    @property
    def repository(self) -> Path:
        """Where relative paths in the file point: the environments folder's parent."""
        return self.path.resolve().parent.parent

    def repository_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.repository / path

    def base_url(self, override: str | None = None) -> str | None:
        return _check_url(override) if override else self.model.target.base_url


# --- interpolation ---------------------------------------------------------------------------

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\$")
_BAD_VAR = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})")


@dataclass
class _Interpolation:
    environ: Mapping[str, str]
    file: str
    secrets: set[str] = field(default_factory=set)
    short: list[str] = field(default_factory=list)

    def value(self, raw: Any, key: str) -> Any:
        if isinstance(raw, dict):
            return {k: self.value(v, f"{key}.{k}" if key else k) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.value(v, f"{key}[{i}]") for i, v in enumerate(raw)]
        if isinstance(raw, str):
            return self.text(raw, key)
        return raw

    def text(self, raw: str, key: str) -> str:
        if _BAD_VAR.search(raw):
            raise ConfigError(
                [f"{self.file}: {key} has a malformed variable; write ${{NAME}} or ${{NAME:-x}}"]
            )

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group("name")
            if name in self.environ:
                value = self.environ[name]
                self.secrets.add(value)
                if 0 < len(value) < MIN_SECRET_LENGTH:
                    self.short.append(f"{self.file}: {key} takes ${{{name}}}, too short to mask")
                return value
            if match.group("default") is not None:
                # a default is written in the file itself, so it is not a secret
                return match.group("default")
            raise ConfigError(
                [
                    f"{self.file}: {key} needs the environment variable {name}, which is not set"
                    f" (export it, or write ${{{name}:-default}})"
                ]
            )

        return _VAR.sub(substitute, raw)


# --- loading ---------------------------------------------------------------------------------


def environments_dir(root: Path | None = None) -> Path:
    """`$RELEASEGATE_ENV_DIR`, else `environments/` under `root` (default: the working dir)."""
    configured = os.environ.get(ENV_DIR_VAR)
    if configured:
        return Path(configured)
    return (root or Path.cwd()) / DEFAULT_ENV_DIR


def known_environments(directory: Path) -> list[str]:
    """Names of the environment files in `directory`, sorted (examples included)."""
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.toml"))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def resolve_path(name_or_path: str, directory: Path) -> tuple[str, Path]:
    """The environment's name and file: a name looked up in `directory`, or a path to a .toml."""
    if name_or_path.endswith(".toml") or os.sep in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError([f"{name_or_path}: no such environment file"])
        return path.stem, path
    path = directory / f"{name_or_path}.toml"
    if not path.is_file():
        known = known_environments(directory)
        listing = ", ".join(known) if known else f"none: {_display(directory)} has no *.toml files"
        raise ConfigError(
            [f"unknown environment {name_or_path!r} (no {_display(path)}); known: {listing}"]
        )
    return name_or_path, path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in its message
        raise ConfigError([f"{_display(path)}: TOML syntax error: {exc}"]) from None
    except OSError as exc:
        raise ConfigError([f"{_display(path)}: cannot read: {exc.strerror}"]) from None


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; every other value (lists included) is replaced by the child."""
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_with_extends(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], str]:
    if path.resolve() in seen:
        chain = " -> ".join(p.stem for p in (*seen, path.resolve()))
        raise ConfigError([f"{_display(path)}: extends forms a cycle ({chain})"])
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, _display(path)
    if not isinstance(parent, str) or not parent:
        raise ConfigError(
            [f"{_display(path)}: extends must be an environment name (got {parent!r})"]
        )
    parent_path = path.parent / f"{parent}.toml"
    if not parent_path.is_file():
        raise ConfigError(
            [f"{_display(path)}: extends {parent!r}, but {_display(parent_path)} does not exist"]
        )
    base, base_label = _read_with_extends(parent_path, (*seen, path.resolve()))
    base.pop("abstract", None)  # being a base is not inherited
    return _merge(base, raw), f"{_display(path)} (extends {base_label})"


def load_environment(
    name_or_path: str,
    directory: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Environment:
    """Load, interpolate and validate one environment; raise `ConfigError` on any problem."""
    directory = directory or environments_dir()
    name, path = resolve_path(name_or_path, directory)
    raw, label = _read_with_extends(path)
    interpolation = _Interpolation(os.environ if environ is None else environ, label)
    data = interpolation.value(raw, "")
    redactor = Redactor.of(interpolation.secrets)
    try:
        model = EnvironmentModel.model_validate(data)
    except ValidationError as exc:
        problems = [redactor.redact(p) for p in validation_problems(exc, label)]
        raise ConfigError(problems) from None
    return Environment(
        name=name,
        path=path,
        model=model,
        secrets=frozenset(interpolation.secrets),
        warnings=tuple(interpolation.short),
    )


class _Placeholders(dict[str, str]):
    """The process environment, plus a placeholder for every variable it does not set."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        if key.upper().endswith("URL"):
            return f"https://{key.lower().replace('_', '-')}.example.invalid/"
        return f"example-{key.lower()}"


def with_placeholders(environ: Mapping[str, str]) -> Mapping[str, str]:
    """`environ`, answering a placeholder for any variable it lacks (for reading, not running)."""
    return _Placeholders(environ)


def load_for_review(name: str, directory: Path) -> Environment:
    """Like `load_environment`, but example files (templates) get placeholders for unset
    variables, so `envs check` judges their shape rather than this shell's variables."""
    if name.endswith(EXAMPLE_SUFFIX):
        return load_environment(name, directory, with_placeholders(os.environ))
    return load_environment(name, directory)


def check_all(directory: Path) -> dict[str, list[str]]:
    """Validate every environment file in `directory`: name -> problems (empty when valid)."""
    results: dict[str, list[str]] = {}
    for name in known_environments(directory):
        try:
            load_for_review(name, directory)
        except ConfigError as exc:
            results[name] = exc.problems
        else:
            results[name] = []
    return results


# --- error messages --------------------------------------------------------------------------

_PHRASES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "too_short": "must list at least {min_length}",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}


_UNION_TAGS = frozenset({"int", "float", "str", "bool"})


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or "[" in part or "(" in part:
            continue  # pydantic's names for the branches of a union, not keys
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _fields_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        model = next((a for a in (annotation, *args) if hasattr(a, "model_fields")), None)
        if model is None:
            return []
    # the names written in the file: `for`, not the attribute `for_`
    return [info.alias or name for name, info in getattr(model, "model_fields", {}).items()]


def _number(value: object) -> object:
    return f"{value:g}" if isinstance(value, float) else value


def _describe(error: Any, root: type[BaseModel] = EnvironmentModel) -> str:
    loc = tuple(error["loc"])
    path = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields_at(loc, root)
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else f"; known keys: {', '.join(known)}"
        return f"{path}: unknown key{hint}"
    if kind == "literal_error":
        return f"{path} must be one of {error['ctx']['expected']} (got {error['input']!r})"
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ")
        if loc:
            return f"{path} {message}"
        return message
    phrase = _PHRASES.get(kind)
    if phrase is not None:
        text = phrase.format(**{k: _number(v) for k, v in error.get("ctx", {}).items()})
        if kind == "missing":
            return f"{path} {text}"
        return f"{path} {text} (got {error['input']!r})"
    return f"{path}: {error['msg']} (got {error['input']!r})"


def validation_problems(
    error: ValidationError, label: str, root: type[BaseModel] = EnvironmentModel
) -> list[str]:
    """One line per bad key, `<file>: <key path> <what is wrong>`, in the file's order."""
    # a union (`int | list[int]`) reports once per branch: keep the first per key
    first_per_key = {
        _key_path(tuple(e["loc"])): _describe(e, root) for e in reversed(error.errors())
    }
    return [f"{label}: {text}" for text in first_per_key.values()][::-1]
