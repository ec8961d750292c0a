"""The strict base of every table of an environment file, and the typed values they share.

Units are parsed at load time (`"500ms"` -> 0.5 s, `"99.9%"` -> 0.999), so the rest of
releasegate only ever sees plain numbers; URLs, paths and patterns are checked as they are read.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from releasegate.units import parse_duration, parse_ratio


class StrictModel(BaseModel):
    """A table of an environment file: unknown keys are an error (a typo never goes unnoticed),
    values are frozen once loaded and strings lose surrounding whitespace."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def check_url(value: str) -> str:
    """`value` if it is an http(s) URL with a host and a valid port, without a trailing slash."""
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
# a wait that may be zero (think time, a soak of gates only)
SecondsOrZero = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Ratio = Annotated[float, BeforeValidator(parse_ratio)]
HttpUrl = Annotated[str, AfterValidator(check_url)]
UrlPath = Annotated[str, AfterValidator(_check_path)]


def _check_optional_path(value: str) -> str:
    return value if value == "" else _check_path(value)


# a path, or "" for "this application has no such endpoint" (its checks then skip, saying so)
OptionalUrlPath = Annotated[str, AfterValidator(_check_optional_path)]


def _check_json_key(value: str) -> str:
    if value.startswith("$"):
        import jsonpath  # only environments that use a JSONPath pay for it

        try:
            jsonpath.compile(value)
        except jsonpath.JSONPathError as exc:
            first = str(exc).splitlines()[0]
            raise ValueError(f"is not a valid JSONPath ({first}): {value!r}") from None
    elif not value:
        raise ValueError("must name a JSON field or be a JSONPath such as '$.versions.app'")
    return value


# a JSON field: a name ("version") or a JSONPath (RFC 9535) such as "$.versions.app"
JsonKey = Annotated[str, AfterValidator(_check_json_key)]
Pattern = Annotated[str, AfterValidator(_check_pattern)]

HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# a user's command: a shell string, or an argv list run without a shell
Command = str | list[str]


def show_command(command: Command) -> str:
    """A command as one line: a shell string as written, an argv joined by spaces."""
    return command if isinstance(command, str) else " ".join(command)
