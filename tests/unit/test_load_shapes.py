"""The load profiles' curves: users and spawn rate by second, and every profile ends."""

from __future__ import annotations

import pytest

from releasegate.load.params import LoadParams
from releasegate.load.shapes import PROFILES, users_at


def params(profile: str, **kw: object) -> LoadParams:
    return LoadParams(profile=profile, users=50, spawn_rate=10.0, duration_s=100.0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_stops_by_itself_at_its_duration(profile: str) -> None:
    assert users_at(params(profile), 99.9) is not None
    assert users_at(params(profile), 100.0) is None


@pytest.mark.parametrize("profile", ["smoke-load", "soak"])
def test_constant_profiles_hold_their_users(profile: str) -> None:
    assert {users_at(params(profile), t) for t in (0, 50, 99)} == {(50, 10.0)}


def test_ramp_climbs_over_seventy_percent_then_holds() -> None:
    curve = [users_at(params("ramp"), t) for t in (0, 35, 69, 70, 99)]

    users = [step[0] for step in curve if step]
    assert users[0] == 1
    assert users == sorted(users)
    assert users[-2:] == [50, 50]


def test_spike_jumps_for_the_middle_third() -> None:
    assert users_at(params("spike"), 10) == (10, 10.0)
    assert users_at(params("spike"), 50) == (50, 10.0)
    assert users_at(params("spike"), 80) == (10, 10.0)


def test_thousand_users_ramps_to_a_thousand_whatever_users_says() -> None:
    assert users_at(params("thousand-users"), 80) == (1000, 10.0)
    assert params("thousand-users").peak_users == 1000


def test_an_unknown_profile_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="smoke-load, ramp, spike, soak, thousand-users"):
        users_at(params("stampede"), 1)


def test_params_travel_through_the_environment_intact() -> None:
    sent = LoadParams(
        profile="ramp", users=7, headers={"Authorization": "Bearer x"}, abort_failure_ratio=0.2
    )

    assert LoadParams.from_environ(sent.to_environ()) == sent
    assert LoadParams.from_environ({}) == LoadParams()
