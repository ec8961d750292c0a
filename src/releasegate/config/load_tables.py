"""`[load]` with `[load.thresholds]` and `[load.endpoints]`: the Locust profile, how hard it
pushes, the guardrails that cap it, and what it must achieve."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from releasegate.config.strict_base import Ratio, Seconds, SecondsOrZero, StrictModel

LoadProfile = Literal["smoke-load", "ramp", "spike", "soak", "thousand-users"]


class LoadThresholds(StrictModel):
    """What the load stage must achieve; each is one check."""

    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    failure_ratio_max: Ratio | None = None
    rps_min: float | None = Field(default=None, ge=0)


class EndpointLoadThresholds(StrictModel):
    """One endpoint's own latency limits (by Locust's request name, e.g. "GET /api/tickets")."""

    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)


class LoadConfig(StrictModel):
    """The load gate: which Locust profile, how hard, and the guardrails around it."""

    # read-only environments refuse load unless this is true
    allowed: bool | None = None
    # a locustfile of the repository's; "" (the default): the load comes from [[endpoints]]
    # (each `weight` times as often, those that write left out on read-only environments)
    locustfile: str = ""
    profile: LoadProfile = "smoke-load"
    # the profile's peak users, spawn rate and length (soak: the whole run)
    users: int = Field(default=10, ge=1)
    spawn_rate: float = Field(default=10.0, gt=0)
    duration: Seconds = 10.0
    # think time of each simulated user between tasks (realistic waits: "1s".."5s")
    wait_min: SecondsOrZero = 0.5
    wait_max: SecondsOrZero = 1.5
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
