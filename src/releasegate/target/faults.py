"""Faults of the reference service, by the names DESIGN.md fixes (outside checks rely on them).

`parse_faults(["latency=300ms", "health=degraded:database"])` gives a frozen `FaultSet`; a bad
text raises `FaultError` with one line naming it, what is wrong and the valid names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

SERVICES = ("database", "cache", "email")
FAULT_NAMES = (
    "latency=300ms|100ms..400ms",
    "error-ratio=0..1",
    "health=degraded:SERVICE|down",
    "version=X",
    "drop-header=NAME",
    "js-error",
    "slow-page=DURATION",
    "db-down",
    "refuse-for=DURATION",
)
_KNOWN = frozenset(n.split("=")[0] for n in FAULT_NAMES)
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s)$")


class FaultError(ValueError):
    """A fault text that is not one of the known faults, or has a bad value."""


def _seconds(text: str, fault: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise FaultError(f"fault {fault!r}: {text!r} is not a duration such as 300ms or 1.5s")
    value = float(match.group("n"))
    return value / 1000.0 if match.group("unit") == "ms" else value


@dataclass(frozen=True)
class FaultSet:
    """Every active fault. The default instance is a healthy service."""

    latency: tuple[float, float] | None = None  # seconds, low and high (equal when fixed)
    error_ratio: float = 0.0
    health_down: bool = False
    degraded: frozenset[str] = field(default_factory=frozenset)
    version: str | None = None
    drop_headers: frozenset[str] = field(default_factory=frozenset)  # lower-case names
    js_error: bool = False
    slow_page: float = 0.0
    db_down: bool = False
    refuse_for: float = 0.0

    def describe(self) -> list[str]:
        """The canonical texts of the active faults (what `parse_faults` reads back)."""
        texts: list[str] = []
        if self.latency:
            low, high = (round(v * 1000) for v in self.latency)
            texts.append(f"latency={low}ms" if low == high else f"latency={low}ms..{high}ms")
        if self.error_ratio:
            texts.append(f"error-ratio={self.error_ratio:g}")
        if self.health_down:
            texts.append("health=down")
        texts += [f"health=degraded:{s}" for s in sorted(self.degraded)]
        if self.version is not None:
            texts.append(f"version={self.version}")
        texts += [f"drop-header={h}" for h in sorted(self.drop_headers)]
        if self.js_error:
            texts.append("js-error")
        if self.slow_page:
            texts.append(f"slow-page={self.slow_page:g}s")
        if self.db_down:
            texts.append("db-down")
        if self.refuse_for:
            texts.append(f"refuse-for={self.refuse_for:g}s")
        return texts


def _apply(faults: FaultSet, text: str) -> FaultSet:
    name, _, value = text.strip().partition("=")
    name = name.strip().lower()
    if name not in _KNOWN:
        raise FaultError(f"unknown fault {text.strip()!r}; known faults: {', '.join(FAULT_NAMES)}")
    needs_value = name not in ("js-error", "db-down")
    if needs_value and not value:
        known = ", ".join(FAULT_NAMES)
        raise FaultError(f"fault {text!r} needs a value (NAME=VALUE); known faults: {known}")
    if not needs_value and value:
        raise FaultError(f"fault {text!r} takes no value; write {name}")
    if name == "latency":
        low_text, sep, high_text = value.partition("..")
        low = _seconds(low_text, text)
        high = _seconds(high_text, text) if sep else low
        if high < low:
            raise FaultError(f"fault {text!r}: the range must go from low to high")
        return replace(faults, latency=(low, high))
    if name == "error-ratio":
        try:
            ratio = float(value)
        except ValueError:
            raise FaultError(f"fault {text!r}: {value!r} is not a number from 0 to 1") from None
        if not 0.0 <= ratio <= 1.0:
            raise FaultError(f"fault {text!r}: the ratio must be from 0 to 1")
        return replace(faults, error_ratio=ratio)
    if name == "health":
        if value == "down":
            return replace(faults, health_down=True)
        state, _, service = value.partition(":")
        if state != "degraded" or service not in SERVICES:
            raise FaultError(
                f"fault {text!r}: write health=down or health=degraded:SERVICE with SERVICE one"
                f" of {', '.join(SERVICES)}"
            )
        return replace(faults, degraded=faults.degraded | {service})
    if name == "version":
        return replace(faults, version=value)
    if name == "drop-header":
        return replace(faults, drop_headers=faults.drop_headers | {value.strip().lower()})
    if name == "js-error":
        return replace(faults, js_error=True)
    if name == "slow-page":
        return replace(faults, slow_page=_seconds(value, text))
    if name == "db-down":
        return replace(faults, db_down=True)
    if name == "refuse-for":
        return replace(faults, refuse_for=_seconds(value, text))
    raise AssertionError(f"fault {name!r} is known but not handled")  # pragma: no cover


def parse_faults(items: Iterable[str]) -> FaultSet:
    """All faults named in `items`; each item may itself be a comma-separated list."""
    faults = FaultSet()
    for item in items:
        for text in item.split(","):
            if text.strip():
                faults = _apply(faults, text)
    return faults


def parse_fault(text: str) -> FaultSet:
    """One fault, as a `FaultSet` with only it active."""
    return _apply(FaultSet(), text)
