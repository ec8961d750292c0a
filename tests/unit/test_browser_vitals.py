"""Page timings from the browser's records: CLS session windows, missing values stay missing."""

from __future__ import annotations

import pytest

from releasegate.browser.vitals import LayoutShift, cumulative_layout_shift, timings_from


@pytest.mark.parametrize(
    ("shifts", "expected"),
    [
        pytest.param([], 0.0, id="no shifts: stable"),
        pytest.param([LayoutShift(100, 0.05)], 0.05, id="one shift"),
        pytest.param([LayoutShift(100, 0.05), LayoutShift(600, 0.04)], 0.09, id="one window"),
        pytest.param(
            [LayoutShift(100, 0.05), LayoutShift(1200, 0.04)],
            0.05,
            id="a 1 s gap starts a new window",
        ),
        pytest.param(
            [LayoutShift(0, 0.02)] + [LayoutShift(t, 0.02) for t in range(900, 6000, 900)],
            0.12,
            id="a window lasts at most 5 s",
        ),
        pytest.param(
            [LayoutShift(100, 0.3, had_recent_input=True), LayoutShift(200, 0.01)],
            0.01,
            id="shifts after input are left out",
        ),
        pytest.param(
            [LayoutShift(600, 0.04), LayoutShift(100, 0.05)],
            0.09,
            id="order of arrival does not matter",
        ),
    ],
)
def test_cumulative_layout_shift_is_the_largest_session_window(
    shifts: list[LayoutShift], expected: float
) -> None:
    """CLS as web.dev defines it: the largest sum within one session window."""
    assert cumulative_layout_shift(shifts) == pytest.approx(expected)


def test_timings_are_read_from_the_payload() -> None:
    """Navigation, paint, the last LCP candidate, CLS and widths, rounded to 0.1 ms."""
    timings = timings_from(
        {
            "nav": {
                "responseStart": 14.123,
                "domContentLoadedEventEnd": 143,
                "loadEventEnd": 151.29999,
                "transferSize": 3149,
            },
            "paint": {"first-paint": 260, "first-contentful-paint": 264},
            "lcp": [{"startTime": 264, "size": 100}, {"startTime": 410.04, "size": 8170}],
            "shifts": [{"startTime": 300, "value": 0.02, "hadRecentInput": False}],
            "viewportWidth": 412,
            "scrollWidth": 412,
        }
    )

    assert timings.ttfb_ms == 14.1
    assert timings.load_ms == 151.3
    assert timings.first_contentful_paint_ms == 264
    assert timings.largest_contentful_paint_ms == 410.0
    assert timings.cumulative_layout_shift == pytest.approx(0.02)
    assert timings.transfer_bytes == 3149
    assert (timings.viewport_width, timings.scroll_width) == (412, 412)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(None, id="nothing"),
        pytest.param(
            {"nav": {"loadEventEnd": 0}, "lcp": [], "shifts": None}, id="not yet / unsupported"
        ),
    ],
)
def test_what_the_browser_did_not_record_stays_missing(payload: object) -> None:
    """A load event that never came, no LCP entry, no layout-shift support: None, not 0."""
    timings = timings_from(payload)  # type: ignore[arg-type]

    assert timings.load_ms is None
    assert timings.largest_contentful_paint_ms is None
    assert timings.cumulative_layout_shift is None
