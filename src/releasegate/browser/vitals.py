"""Page timings from the browser's own records: Navigation Timing, Paint Timing, and the
Largest Contentful Paint and Layout Shift entries of PerformanceObserver.

`COLLECT_JS` runs in the page after it loaded and returns plain JSON; `timings_from` turns that
into `PageTimings`. The arithmetic is here, in Python, so it is unit-tested with tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Buffered observers return the entries recorded before they were created; they arrive in a
# callback. LCP waits up to `lcpWaitMs` for a first entry (a cold browser paints late), then
# settles 100 ms after the last one, and a hard deadline ends the wait whatever the page does
# (a page that keeps shifting would otherwise keep re-arming the settle timer). The predicate
# runs under `page.wait_for_function`, whose timeout holds even if the page's thread hangs.
COLLECT_JS = """({ lcpWaitMs }) => {
  if (window.__releasegateVitals !== undefined) return window.__releasegateVitals;
  if (window.__releasegateStarted) return null;
  window.__releasegateStarted = true;
  const buffered = (type, waitMs) => new Promise((done) => {
    const seen = [];
    let observer;
    let settle;
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      clearTimeout(settle);
      observer.disconnect();
      done(seen);
    };
    try {
      observer = new PerformanceObserver((list) => {
        seen.push(...list.getEntries());
        clearTimeout(settle);
        settle = setTimeout(finish, 100);
      });
      observer.observe({ type, buffered: true });
    } catch (error) {
      done(null);  // this browser does not know the entry type
      return;
    }
    setTimeout(finish, waitMs);  // the hard deadline, never cleared
  });
  Promise.all([
    buffered("largest-contentful-paint", lcpWaitMs), buffered("layout-shift", 100),
  ]).then(([lcp, shifts]) => {
    const nav = performance.getEntriesByType("navigation")[0];
    const paint = {};
    for (const entry of performance.getEntriesByType("paint")) paint[entry.name] = entry.startTime;
    window.__releasegateVitals = {
      nav: nav ? {
        responseStart: nav.responseStart, domContentLoadedEventEnd: nav.domContentLoadedEventEnd,
        loadEventEnd: nav.loadEventEnd, transferSize: nav.transferSize,
        responseStatus: nav.responseStatus || 0,
      } : null,
      paint,
      lcp: lcp && lcp.map((e) => ({ startTime: e.startTime, size: e.size })),
      shifts: shifts && shifts.map((e) => ({
        startTime: e.startTime, value: e.value, hadRecentInput: e.hadRecentInput,
      })),
      viewportWidth: window.innerWidth,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
  return null;
}"""

# How long to wait for a first Largest Contentful Paint entry before saying there is none.
LCP_WAIT_MS = 3000

# Layout shifts closer than this belong to one session window, which lasts at most
# `_WINDOW_MAX_MS` (web.dev's definition of CLS since 2021).
_WINDOW_GAP_MS = 1000.0
_WINDOW_MAX_MS = 5000.0


@dataclass(frozen=True)
class LayoutShift:
    start_ms: float
    value: float
    had_recent_input: bool = False


def cumulative_layout_shift(shifts: Iterable[LayoutShift]) -> float:
    """CLS: the largest sum of layout-shift scores in one session window. Shifts right after
    user input are expected and left out. No shifts: 0.0 (a stable page)."""
    largest = current = 0.0
    window_start = previous = None
    for shift in sorted(shifts, key=lambda s: s.start_ms):
        if shift.had_recent_input:
            continue
        if (
            window_start is None
            or previous is None
            or shift.start_ms - previous >= _WINDOW_GAP_MS
            or shift.start_ms - window_start >= _WINDOW_MAX_MS
        ):
            window_start, current = shift.start_ms, 0.0
        current += shift.value
        previous = shift.start_ms
        largest = max(largest, current)
    return largest


@dataclass(frozen=True)
class PageTimings:
    """What the browser measured for one page load, in milliseconds from navigation start.

    `None` means the browser did not record it (no LCP entry for a page that painted nothing,
    a load event that never came, or a browser that does not support the entry type).
    """

    ttfb_ms: float | None = None
    dom_content_loaded_ms: float | None = None
    load_ms: float | None = None
    first_contentful_paint_ms: float | None = None
    largest_contentful_paint_ms: float | None = None
    cumulative_layout_shift: float | None = None
    transfer_bytes: int | None = None
    viewport_width: int | None = None
    scroll_width: int | None = None


def _positive(value: Any) -> float | None:
    # Navigation Timing reports 0 for events that have not happened (yet)
    return round(float(value), 1) if isinstance(value, int | float) and value > 0 else None


def timings_from(payload: Mapping[str, Any] | None) -> PageTimings:
    """`PageTimings` from what `COLLECT_JS` returned (tolerant of missing parts)."""
    if not payload:
        return PageTimings()
    nav = payload.get("nav") or {}
    paint = payload.get("paint") or {}
    lcp_entries = payload.get("lcp")
    shift_entries = payload.get("shifts")
    lcp = None
    if lcp_entries:
        # the last candidate is the largest contentful paint so far
        lcp = _positive(max(e.get("startTime", 0) for e in lcp_entries))
    cls = None
    if shift_entries is not None:
        cls = cumulative_layout_shift(
            LayoutShift(
                float(e.get("startTime", 0)),
                float(e.get("value", 0)),
                bool(e.get("hadRecentInput", False)),
            )
            for e in shift_entries
        )
    transfer = nav.get("transferSize")
    width, scroll = payload.get("viewportWidth"), payload.get("scrollWidth")
    return PageTimings(
        ttfb_ms=_positive(nav.get("responseStart")),
        dom_content_loaded_ms=_positive(nav.get("domContentLoadedEventEnd")),
        load_ms=_positive(nav.get("loadEventEnd")),
        first_contentful_paint_ms=_positive(paint.get("first-contentful-paint")),
        largest_contentful_paint_ms=lcp,
        cumulative_layout_shift=cls,
        transfer_bytes=int(transfer) if isinstance(transfer, int | float) else None,
        viewport_width=int(width) if isinstance(width, int | float) else None,
        scroll_width=int(scroll) if isinstance(scroll, int | float) else None,
    )
