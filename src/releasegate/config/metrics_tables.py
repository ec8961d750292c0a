"""`[[metrics]]` and `[[logs]]`: the signals a team already watches, as checks of any stage.

A metric is a query to a provider plus a success condition, measured `count` times every
`interval` and judged with Argo Rollouts' limits (docs/metrics.md maps every key to Argo's);
a log check counts the lines matching a pattern written since the deploy started.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from releasegate.conditions import Condition, compile_condition
from releasegate.config.strict_base import (
    Command,
    JsonKey,
    Pattern,
    Seconds,
    SecondsOrZero,
    StrictModel,
    check_url,
)
from releasegate.stages import Stage

# a metric check never holds a gate run longer than this (measurements, waits and delay)
MAX_METRIC_SPAN_S = 30 * 60.0


def _stages(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _unique_stages(value: list[Stage]) -> list[Stage]:
    if not value:
        raise ValueError("names no stage; one of pre_deploy, smoke, post_deploy, load, slo")
    return list(dict.fromkeys(value))


Stages = Annotated[list[Stage], BeforeValidator(_stages), AfterValidator(_unique_stages)]


def _check_condition(value: str) -> str:
    compile_condition(value)  # raises ValueError naming what is wrong
    return value


ConditionText = Annotated[str, AfterValidator(_check_condition)]


def _check_jmespath(value: str) -> str:
    import jmespath  # only environments that use it pay for it
    from jmespath.exceptions import JMESPathError

    try:
        jmespath.compile(value)
    except JMESPathError as exc:
        first = str(exc).splitlines()[0].removeprefix("Invalid jmespath expression: ")
        raise ValueError(f"is not a valid JMESPath ({first}): {value!r}") from None
    return value


def _check_url_or_path(value: str) -> str:
    return value if value.startswith("/") else check_url(value)


class MetricCheck(StrictModel):
    """One `[[metrics]]` entry."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    stage: Stages = Field(default_factory=lambda: list[Stage](["slo"]))
    provider: Literal["prometheus", "web", "command"]
    # prometheus: an instant query (`url`: another Prometheus than [slo.prometheus]'s)
    query: str | None = None
    # web: an absolute URL or a path on the target, sent with the environment's headers
    url: Annotated[str, AfterValidator(_check_url_or_path)] | None = None
    method: Literal["GET", "POST"] = "GET"
    # sent besides [target] headers (which go to the target's own origin only)
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | list[Any] | None = None  # web POST: sent as JSON
    jsonpath: JsonKey | None = None
    jmespath: Annotated[str, AfterValidator(_check_jmespath)] | None = None
    # command: an argv (or a shell string); its stdout is a number or JSON
    command: Command | None = None
    timeout: Seconds = 10.0  # one measurement
    success: ConditionText
    # below success but not failure: inconclusive (Argo's failureCondition)
    failure: ConditionText | None = None
    count: int = Field(default=1, ge=1, le=100)
    interval: SecondsOrZero = 10.0
    initial_delay: SecondsOrZero = 0.0
    failure_limit: int = Field(default=0, ge=0)
    inconclusive_limit: int = Field(default=0, ge=0)
    consecutive_error_limit: int = Field(default=4, ge=0)
    # Argo's dryRun: measured and shown, never votes
    advisory: bool = False
    # "baseline": the same metric measured in the pre-deploy stage (or `releasegate baseline`)
    # is `before` in the conditions
    before: Literal["baseline"] | None = None
    unit: str = ""  # how values are shown: "%", "MB", "ms"

    @model_validator(mode="after")
    def _provider_has_its_keys(self) -> MetricCheck:
        needs = {"prometheus": "query", "web": "url", "command": "command"}[self.provider]
        if getattr(self, needs) is None:
            raise ValueError(f"provider {self.provider!r} needs `{needs}` (metric {self.name!r})")
        foreign = {
            "prometheus": ("jsonpath", "jmespath", "command", "body"),
            "web": ("query", "command"),
            "command": ("query", "url", "body"),
        }[self.provider]
        extra = [key for key in foreign if getattr(self, key) is not None]
        if extra:
            raise ValueError(
                f"provider {self.provider!r} does not use `{extra[0]}` (metric {self.name!r})"
            )
        if self.jsonpath is not None and self.jmespath is not None:
            raise ValueError(f"metric {self.name!r}: give `jsonpath` or `jmespath`, not both")
        if self.body is not None and self.method != "POST":
            raise ValueError(f"metric {self.name!r}: `body` is sent with method = 'POST' only")
        needs_before = any(c.needs_before for c in self.conditions())
        if needs_before and self.before is None:
            raise ValueError(
                f'metric {self.name!r}: a condition reads `before`; add before = "baseline"'
            )
        if self.span_s() > MAX_METRIC_SPAN_S:
            raise ValueError(
                f"metric {self.name!r}: initial_delay + (count - 1) x interval is"
                f" {self.span_s():g}s, over the {MAX_METRIC_SPAN_S:g}s a check may take"
            )
        return self

    def conditions(self) -> list[Condition]:
        found = [compile_condition(self.success)]
        return found if self.failure is None else [*found, compile_condition(self.failure)]

    def span_s(self) -> float:
        """The longest the measurements wait: the delay and the intervals between them."""
        return self.initial_delay + (self.count - 1) * self.interval


class LogCheck(StrictModel):
    """One `[[logs]]` entry: matching lines written since the deploy started, at most `max`."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    stage: Stages = Field(default_factory=lambda: list[Stage](["post_deploy"]))
    source: Literal["command", "file", "journald"]
    # command: `{since}` becomes the deploy's start (ISO 8601, UTC), `{run_dir}` the run's folder
    command: Command | None = None
    # file: a path or glob (`{run_dir}` as above); lines with a time before the deploy are left out
    file: str | None = None
    # journald: the unit whose journal is read (journalctl -u UNIT --since ...)
    unit: str | None = None
    pattern: Pattern = r"(?i)\b(error|exception|fatal)\b"
    ignore: list[Pattern] = Field(default_factory=list)
    max: int = Field(default=0, ge=0)
    timeout: Seconds = 30.0
    advisory: bool = False

    @model_validator(mode="after")
    def _source_has_its_key(self) -> LogCheck:
        needs = {"command": "command", "file": "file", "journald": "unit"}[self.source]
        if getattr(self, needs) is None:
            raise ValueError(f"source {self.source!r} needs `{needs}` (log check {self.name!r})")
        others = [k for k in ("command", "file", "unit") if k != needs and getattr(self, k)]
        if others:
            raise ValueError(
                f"source {self.source!r} does not use `{others[0]}` (log check {self.name!r})"
            )
        return self


def unique_names(kind: str, names: list[str]) -> None:
    """ValueError naming the repeated names of `[[metrics]]` or `[[logs]]` (they are check ids)."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"[[{kind}]] names must be unique; repeated: {repeated}")
