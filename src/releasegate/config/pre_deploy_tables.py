"""The pre-deploy gate's tables: `[pre_deploy]`, `[secret_scan]`, `[tls]` and `[database]` with
`[database.migrations]` and `[database.backup]` (its `[[database.backup.sanity]]` queries)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, model_validator

from releasegate.config.strict_base import Command, Seconds, StrictModel


class SecretScanConfig(StrictModel):
    """`[secret_scan]`: committed secrets, found by detect-secrets under `root` (relative to
    the repository: the environment folder's parent)."""

    enabled: bool = True
    root: str = "."
    # detect-secrets' baseline (`detect-secrets scan > .secrets.baseline` run in `root`), relative
    # to `root`; used when the file exists: the secrets it lists are known, not reported
    baseline: str | None = ".secrets.baseline"
    exclude: list[str] = Field(default_factory=list)  # globs relative to root
    max_files: int = Field(default=20_000, ge=1)
    # rescan only the files whose content changed since the last scan under the same baseline
    # (findings kept in $XDG_CACHE_HOME/releasegate/secret-scan/, never a secret's value)
    cache: bool = True


class TlsConfig(StrictModel):
    """`[tls]`: the target's certificate (when https) and any other `hosts`."""

    min_days: float = Field(default=14.0, ge=0)
    hosts: list[str] = Field(default_factory=list)  # "host:port" or https:// URLs
    ca_file: str | None = None  # an extra CA bundle (a private CA), relative to the repository
    timeout: Seconds = 5.0


class MigrationsConfig(StrictModel):
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


class SanityQueryConfig(StrictModel):
    """One query run on the restored backup; it returns one value, judged by min/max/equals."""

    name: str
    sql: str
    min: float | None = None
    max: float | None = None
    equals: str | None = None


class BackupConfig(StrictModel):
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


class DatabaseConfig(StrictModel):
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


class PreDeployConfig(StrictModel):
    """`[pre_deploy]`: what the pre-deploy gate does besides its own tables."""

    require_healthy: bool = True  # a deploy onto a sick target is HOLD
    baseline: bool = True  # sample the key endpoints into baseline.json
