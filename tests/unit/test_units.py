"""Units people write in environment files."""

from __future__ import annotations

import pytest

from releasegate.units import format_duration, parse_duration, parse_ratio


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("5s", 5.0), ("2m", 120.0), ("1h", 3600.0), (3, 3.0), ("1.5s", 1.5)],
)
def test_durations(text: object, seconds: float) -> None:
    """Milliseconds, seconds, minutes, hours and bare numbers of seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["soon", "5 days", "-1", True, None, "ms"])
def test_bad_durations(text: object) -> None:
    """Anything else is refused with the expected form in the message."""
    with pytest.raises(ValueError, match=r"expected a duration|cannot be negative"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "ratio"), [("99.9%", 0.999), (0.5, 0.5), ("0.01", 0.01), (1, 1.0), ("0%", 0.0)]
)
def test_ratios(text: object, ratio: float) -> None:
    """Percentages and plain ratios."""
    assert parse_ratio(text) == pytest.approx(ratio)


@pytest.mark.parametrize("text", ["120%", 1.5, "-1%", "lots", False])
def test_bad_ratios(text: object) -> None:
    """Out of range or not a number."""
    with pytest.raises(ValueError, match="ratio"):
        parse_ratio(text)


def test_format_duration_picks_a_readable_unit() -> None:
    """Below a second in ms, above in s."""
    assert (format_duration(0.25), format_duration(2.5)) == ("250 ms", "2.5 s")
