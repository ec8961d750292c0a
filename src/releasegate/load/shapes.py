"""The load profiles as functions of time: how many users to run at second `t`, and how fast
to get there (always the environment's `spawn_rate`, which its cap bounds).

Pure, so every profile's curve is unit-tested; `releasegate/load/profiles/*.py` wrap them as
Locust `LoadTestShape` classes. `None` means the run is over: every profile ends by itself."""

from __future__ import annotations

import math

from releasegate.load.params import THOUSAND, LoadParams

Step = tuple[int, float] | None
PROFILES = ("smoke-load", "ramp", "spike", "soak", "thousand-users")


def _constant(params: LoadParams, t: float) -> Step:
    return (params.users, params.spawn_rate) if t < params.duration_s else None


def _ramp(params: LoadParams, t: float, peak: int) -> Step:
    # climb over the first 70 % of the run, hold the peak for the rest
    if t >= params.duration_s:
        return None
    climb = 0.7 * params.duration_s
    users = peak if t >= climb else max(1, math.ceil(peak * (t + 1) / (climb + 1)))
    return users, params.spawn_rate


def _spike(params: LoadParams, t: float) -> Step:
    # a fifth of the users, the whole lot for the middle third, then back
    if t >= params.duration_s:
        return None
    base = max(1, params.users // 5)
    third = params.duration_s / 3
    if third <= t < 2 * third:
        return params.users, params.spawn_rate
    return base, params.spawn_rate


def users_at(params: LoadParams, t: float) -> Step:
    """(users, spawn rate) at `t` seconds into the run for `params.profile`; None: stop."""
    profile = params.profile
    if profile in ("smoke-load", "soak"):
        return _constant(params, t)
    if profile == "ramp":
        return _ramp(params, t, params.users)
    if profile == "thousand-users":
        return _ramp(params, t, THOUSAND)
    if profile == "spike":
        return _spike(params, t)
    raise ValueError(f"unknown load profile {profile!r}; profiles: {', '.join(PROFILES)}")
