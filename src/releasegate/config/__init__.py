"""Environment files: `environments/<name>.toml` -> a validated, frozen `Environment`.

The package's modules, one job each:

- `loader`: finding the files, reading TOML, `extends`, `load_environment`, `check_all`;
- `interpolation`: `${VAR}` / `${VAR:-default}`, recording every value from a variable as a secret;
- `validation_messages`: pydantic's errors as one-line `<file>: <key path> <problem>` messages;
- `strict_base`: the strict base model (unknown keys refused, frozen) and the shared value types
  (`Seconds`, `Ratio`, `HttpUrl`, `UrlPath`, `Pattern`, `Command`);
- `environment`: `EnvironmentModel` (the whole file) and the loaded `Environment`;
- one module per group of tables: `target_tables` (`[target]`, `[reference]`, `[[endpoints]]`,
  `[[pages]]`), `browser_tables`, `slo_tables`, `load_tables`, `policy_tables` (`[policy]`,
  `[rollback]`, `[notify]`), `pre_deploy_tables` (`[pre_deploy]`, `[secret_scan]`, `[tls]`,
  `[database]`), `post_deploy_tables` (`[post_deploy]`, `[headers]`, `[cache]`, `[watch]`),
  `monitor_tables` and `metrics_tables` (`[[metrics]]`, `[[logs]]`).

Import from `releasegate.config`, not from the modules: this is the public surface.
"""

from releasegate.config.browser_tables import BrowserConfig, BrowserLogin
from releasegate.config.environment import Environment, EnvironmentModel
from releasegate.config.interpolation import with_placeholders
from releasegate.config.load_tables import (
    EndpointLoadThresholds,
    LoadConfig,
    LoadProfile,
    LoadThresholds,
)
from releasegate.config.loader import (
    DEFAULT_ENV_DIR,
    ENV_DIR_VAR,
    ENV_VAR,
    EXAMPLE_SUFFIX,
    check_all,
    environments_dir,
    known_environments,
    load_environment,
    load_for_review,
    resolve_path,
)
from releasegate.config.metrics_tables import MAX_METRIC_SPAN_S, LogCheck, MetricCheck
from releasegate.config.monitor_tables import MONITOR_MAX_S, MonitorConfig
from releasegate.config.policy_tables import NotifyConfig, PolicyConfig, RollbackConfig
from releasegate.config.post_deploy_tables import (
    CacheConfig,
    HeaderCheck,
    HeadersConfig,
    PostDeployConfig,
    WatchConfig,
)
from releasegate.config.pre_deploy_tables import (
    BackupConfig,
    DatabaseConfig,
    MigrationsConfig,
    PreDeployConfig,
    SanityQueryConfig,
    SecretScanConfig,
    TlsConfig,
)
from releasegate.config.slo_tables import (
    MIN_INCREASE_FLOOR_MS,
    BaselineConfig,
    BurnWindow,
    PrometheusConfig,
    SloConfig,
    SyntheticConfig,
)
from releasegate.config.strict_base import (
    Command,
    HttpMethod,
    HttpUrl,
    JsonKey,
    OptionalUrlPath,
    Pattern,
    Ratio,
    Seconds,
    SecondsOrZero,
    StrictModel,
    UrlPath,
    show_command,
)
from releasegate.config.target_tables import (
    BasicAuth,
    Endpoint,
    OpenApiConfig,
    Page,
    ReferenceConfig,
    TargetConfig,
)
from releasegate.config.validation_messages import validation_problems

__all__ = [
    "DEFAULT_ENV_DIR",
    "ENV_DIR_VAR",
    "ENV_VAR",
    "EXAMPLE_SUFFIX",
    "MAX_METRIC_SPAN_S",
    "MIN_INCREASE_FLOOR_MS",
    "MONITOR_MAX_S",
    "BackupConfig",
    "BaselineConfig",
    "BasicAuth",
    "BrowserConfig",
    "BrowserLogin",
    "BurnWindow",
    "CacheConfig",
    "Command",
    "DatabaseConfig",
    "Endpoint",
    "EndpointLoadThresholds",
    "Environment",
    "EnvironmentModel",
    "HeaderCheck",
    "HeadersConfig",
    "HttpMethod",
    "HttpUrl",
    "JsonKey",
    "LoadConfig",
    "LoadProfile",
    "LoadThresholds",
    "LogCheck",
    "MetricCheck",
    "MigrationsConfig",
    "MonitorConfig",
    "NotifyConfig",
    "OpenApiConfig",
    "OptionalUrlPath",
    "Page",
    "Pattern",
    "PolicyConfig",
    "PostDeployConfig",
    "PreDeployConfig",
    "PrometheusConfig",
    "Ratio",
    "ReferenceConfig",
    "RollbackConfig",
    "SanityQueryConfig",
    "Seconds",
    "SecondsOrZero",
    "SecretScanConfig",
    "SloConfig",
    "StrictModel",
    "SyntheticConfig",
    "TargetConfig",
    "TlsConfig",
    "UrlPath",
    "WatchConfig",
    "check_all",
    "environments_dir",
    "known_environments",
    "load_environment",
    "load_for_review",
    "resolve_path",
    "show_command",
    "validation_problems",
    "with_placeholders",
]
