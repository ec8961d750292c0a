"""The wait for the bundled Prometheus after the synthetic samples: only what is left of it."""

from datetime import UTC, datetime, timedelta

import pytest

from releasegate.pytest_plugin.slo_fixtures import BUNDLED_SCRAPES_S, scrape_wait_left
from releasegate.slo.synthetic import SampleSet

TAKEN = datetime(2026, 12, 4, 5, 0, 0, tzinfo=UTC)


def samples(taken_at: str = TAKEN.isoformat()) -> SampleSet:
    return SampleSet(
        environment="local", target_url="http://127.0.0.1:1", samples=[], taken_at=taken_at
    )


@pytest.mark.parametrize(
    ("seconds_since", "left"),
    [
        (0.0, BUNDLED_SCRAPES_S),
        (1.0, BUNDLED_SCRAPES_S - 1.0),
        (BUNDLED_SCRAPES_S, 0.0),
        (30.0, 0.0),
        (-5.0, BUNDLED_SCRAPES_S),  # a clock that went back: never more than the whole wait
    ],
)
def test_the_wait_is_what_is_left_of_two_scrapes(seconds_since: float, left: float) -> None:
    now = TAKEN + timedelta(seconds=seconds_since)

    assert scrape_wait_left(samples(), now) == pytest.approx(left)


def test_samples_without_a_readable_time_wait_the_whole_time() -> None:
    assert scrape_wait_left(samples("not a time"), TAKEN) == BUNDLED_SCRAPES_S
