"""The post-deploy gate's tables: `[post_deploy]`, `[headers]`, `[cache]`, and `[watch]` (the
probing during a deploy whose timeline post-deploy judges)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from releasegate.config.strict_base import (
    HttpUrl,
    JsonKey,
    Pattern,
    Ratio,
    Seconds,
    StrictModel,
    UrlPath,
)

HeaderCheck = Literal["csp", "hsts", "nosniff", "frame", "referrer"]


class HeadersConfig(StrictModel):
    """`[headers]`: the security headers every listed path must send."""

    paths: list[UrlPath] = Field(default_factory=lambda: ["/"])
    skip: list[HeaderCheck] = Field(default_factory=list)
    hsts_min_age: Seconds = 180 * 86400.0  # six months
    hsts_on_http: bool = False  # browsers ignore HSTS over http: only judged on https


class CacheConfig(StrictModel):
    """`[cache]`: key pages warmed after the deploy, and caching working as declared."""

    paths: list[UrlPath] = Field(default_factory=list)
    expect: Literal["header", "faster"] = "header"
    header: str = "Cache-Control"
    pattern: Pattern = r"max-age=[1-9]"  # what the second response's header must match
    faster_by: Ratio = 0.2  # "faster": the second hit at least this much faster
    # a shared cache (CDN, proxy) is what the check is about: `private` then forbids caching
    shared: bool = True


class PostDeployConfig(StrictModel):
    """`[post_deploy]`: version on every instance, and a short error-ratio sample."""

    instances: list[HttpUrl] = Field(default_factory=list)  # default: the target itself
    release_version: str | None = None  # --release-version wins
    version_key: JsonKey | None = None  # default: [target] version_key
    error_ratio_max: Ratio = 0.01
    requests: int = Field(default=100, ge=1, le=10_000)
    concurrency: int = Field(default=4, ge=1, le=64)
    rate: float = Field(default=50.0, gt=0, le=1000)
    duration: Seconds = 20.0


class WatchConfig(StrictModel):
    """`[watch]`: probing during a deploy (`releasegate watch`), and how its timeline is judged."""

    paths: list[UrlPath] = Field(default_factory=list)  # default: health + GET endpoints
    rate: float = Field(default=10.0, gt=0, le=100)  # probes per second, all paths together
    timeout: Seconds = 2.0
    before: Seconds = 1.0  # probing before the deploy command starts
    after: Seconds = 3.0  # and after it ends
    max_duration: Seconds = 1800.0  # the deploy command is stopped past this (a post-deploy fail)
    max_failed: int = Field(default=0, ge=0)
    max_gap: Seconds = 2.0  # longest time without a successful probe
    required: bool = False  # post-deploy without a timeline: HOLD instead of a skip
    max_age: Seconds = 6 * 3600.0  # an older timeline is not this deploy's
