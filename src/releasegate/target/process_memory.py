"""The service's resident memory, and the memory the `leak=MB/s` fault holds.

The leak maps anonymous memory and writes every page of it, so it is really resident (pages
only mapped, or zero-filled, may never be); switching the fault off unmaps it, which gives it
back to the system at once.
"""

from __future__ import annotations

import mmap
import os
import sys
from pathlib import Path

MIB = 1024 * 1024
# A forgotten leak must not take the machine: it stops growing here.
LEAK_CAP_BYTES = 2 * 1024 * MIB
_PATTERN = b"\x01" * MIB


def rss_bytes() -> int:
    """Resident set size now: /proc/self/statm on Linux; elsewhere the peak that
    getrusage reports (kilobytes on Linux, bytes on macOS)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_bytes().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource  # POSIX only, and only needed where /proc is not

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)


class Leak:
    """Memory held for the `leak` fault: `tick(rate, now)` grows it to `rate` MiB per second
    since the fault came on, up to `cap_bytes`; a rate of 0 gives it all back."""

    def __init__(self, cap_bytes: int = LEAK_CAP_BYTES) -> None:
        self.cap_bytes = cap_bytes
        self._blocks: list[mmap.mmap] = []
        self._held = 0
        self._owed = 0.0  # bytes due but not yet allocated (less than a MiB)
        self._last: float | None = None

    @property
    def held_bytes(self) -> int:
        """How much is held now."""
        return self._held

    def tick(self, mb_per_s: float, now: float) -> None:
        """Allocate what is due at `now` (monotonic seconds), in whole MiB."""
        if mb_per_s <= 0:
            self.release()
            return
        if self._last is not None:
            self._owed += mb_per_s * MIB * max(0.0, now - self._last)
        self._last = now
        size = min(int(self._owed) // MIB * MIB, self.cap_bytes - self._held)
        if size <= 0:
            if self._held >= self.cap_bytes:
                self._owed = 0.0
            return
        self._owed -= size
        block = mmap.mmap(-1, size)
        for offset in range(0, size, MIB):  # write every page: resident, not just mapped
            block[offset : offset + MIB] = _PATTERN
        self._blocks.append(block)
        self._held += size

    def release(self) -> None:
        """Give everything back."""
        blocks, self._blocks = self._blocks, []
        for block in blocks:
            block.close()
        self._held = 0
        self._owed = 0.0
        self._last = None
