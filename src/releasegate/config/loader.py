"""Finding and loading environment files: `environments/<name>.toml` -> an `Environment`.

One loader for the CLI and the pytest plugin. It reads TOML with the standard library, resolves
`extends`, interpolates `${VAR}` (interpolation.py), then validates with the strict models
(environment.py); every problem becomes a `ConfigError` of one-line messages naming the file and
the key path (validation_messages.py).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from releasegate.config.environment import Environment, EnvironmentModel
from releasegate.config.interpolation import Interpolation, with_placeholders
from releasegate.config.validation_messages import validation_problems
from releasegate.errors import ConfigError
from releasegate.redact import Redactor

ENV_VAR = "RELEASEGATE_ENV"
ENV_DIR_VAR = "RELEASEGATE_ENV_DIR"
DEFAULT_ENV_DIR = "environments"
EXAMPLE_SUFFIX = ".example"


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
    interpolation = Interpolation(os.environ if environ is None else environ, label)
    data = interpolation.value(raw, "")
    redactor = Redactor.of(interpolation.secrets)
    try:
        model = EnvironmentModel.model_validate(data)
    except ValidationError as exc:
        problems = [redactor.redact(p) for p in validation_problems(exc, label, EnvironmentModel)]
        raise ConfigError(problems) from None
    return Environment(
        name=name,
        path=path,
        model=model,
        secrets=frozenset(interpolation.secrets),
        warnings=tuple(interpolation.short),
    )


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
