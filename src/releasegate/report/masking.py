"""The secrets of each run, for masking what the report site publishes.

A run made by plain `pytest` that was killed before its own scrub leaves report.html, junit.xml
and Allure's results unmasked. The site builder therefore masks every file it copies and every
page it renders with the secrets of the run's environment, loaded again here: from the file the
run recorded (`run.environment_file` in results.json), else by name from the environments
folder. When the environment cannot be loaded (the file is gone, a `${VAR}` is not set where
the site is built), the run's secrets are unknown, so its raw files are not published at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from releasegate.config import load_environment
from releasegate.errors import ConfigError
from releasegate.redact import Redactor


@dataclass(frozen=True)
class RunSecrets:
    """The redactor of a run's environment, or why there is none (`problem`): then the run's
    raw files are withheld from the site."""

    redactor: Redactor
    problem: str | None = None


class SecretsByEnvironment:
    """Environments loaded once per build, whatever the number of runs that used each."""

    def __init__(self, env_dir: Path) -> None:
        self.env_dir = env_dir
        self._loaded: dict[tuple[str, str | None], RunSecrets] = {}

    def of(self, environment: str | None, environment_file: str | None) -> RunSecrets:
        key = (environment or "", environment_file)
        if key not in self._loaded:
            self._loaded[key] = self._load(environment, environment_file)
        return self._loaded[key]

    def _load(self, environment: str | None, environment_file: str | None) -> RunSecrets:
        if environment_file and Path(environment_file).is_file():
            name_or_path = environment_file
        elif environment:
            name_or_path = environment
        else:
            return RunSecrets(Redactor(), "the run names no environment (results.json unreadable)")
        try:
            loaded = load_environment(name_or_path, self.env_dir)
        except ConfigError as exc:
            return RunSecrets(Redactor(), f"environment {environment!r} cannot be loaded: {exc}")
        return RunSecrets(loaded.redactor)

    def all(self) -> Redactor:
        """Every secret of every environment loaded: for the pages that show several runs."""
        merged = Redactor()
        for secrets in self._loaded.values():
            merged = merged.merged(secrets.redactor.secrets)
        return merged
