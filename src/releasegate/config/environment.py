"""An environment: the validated content of its file (`EnvironmentModel`, every table), and the
loaded `Environment` with its name, path and secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from releasegate.config.browser_tables import BrowserConfig
from releasegate.config.load_tables import LoadConfig
from releasegate.config.metrics_tables import LogCheck, MetricCheck, unique_names
from releasegate.config.monitor_tables import MonitorConfig
from releasegate.config.policy_tables import NotifyConfig, PolicyConfig, RollbackConfig
from releasegate.config.post_deploy_tables import (
    CacheConfig,
    HeadersConfig,
    PostDeployConfig,
    WatchConfig,
)
from releasegate.config.pre_deploy_tables import (
    DatabaseConfig,
    PreDeployConfig,
    SecretScanConfig,
    TlsConfig,
)
from releasegate.config.realtime_tables import RealtimeCheck
from releasegate.config.release_tables import ReleaseConfig
from releasegate.config.security_tables import SecurityConfig
from releasegate.config.slo_tables import SloConfig
from releasegate.config.strict_base import StrictModel, check_url
from releasegate.config.target_tables import (
    Endpoint,
    OpenApiConfig,
    Page,
    ReferenceConfig,
    TargetConfig,
)
from releasegate.redact import MIN_SECRET_LENGTH, Redactor


class EnvironmentModel(StrictModel):
    """The validated content of one environment file (after `extends` and `${VAR}`)."""

    description: str = ""
    abstract: bool = False
    target: TargetConfig = Field(default_factory=TargetConfig)
    reference: ReferenceConfig = Field(default_factory=ReferenceConfig)
    endpoints: list[Endpoint] = Field(default_factory=list)
    pages: list[Page] = Field(default_factory=list)
    openapi: OpenApiConfig | None = None
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
    metrics: list[MetricCheck] = Field(default_factory=list)
    logs: list[LogCheck] = Field(default_factory=list)
    realtime: list[RealtimeCheck] = Field(default_factory=list)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)

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
        unique_names("metrics", [m.name for m in self.metrics])
        unique_names("logs", [log.name for log in self.logs])
        unique_names("realtime", [check.name for check in self.realtime])
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
        return check_url(override) if override else self.model.target.base_url
