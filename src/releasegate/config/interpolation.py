"""`${VAR}` and `${VAR:-default}` in an environment file, from the process environment.

Every value that came from a variable is a secret (DESIGN: it never appears in any output), so
the interpolation records them for the environment's redactor. A variable that is not set is a
configuration error naming the file, the key and the variable; `$$` is a literal `$`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from releasegate.errors import ConfigError
from releasegate.redact import MIN_SECRET_LENGTH

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\$")
_BAD_VAR = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})")


@dataclass
class Interpolation:
    """Interpolates one file's values (`file` is its label in messages). Afterwards `secrets`
    holds every value taken from a variable, `short` a warning per value too short to mask."""

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
