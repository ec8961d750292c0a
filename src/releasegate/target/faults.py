"""Faults of the reference service, by the names DESIGN.md fixes (outside checks rely on them).

`parse_fault("latency=300ms")` gives one `Fault`; `parse_faults(["latency=300ms", "db-down"])`
gives the frozen `FaultSet` the service applies. A bad text raises `FaultError`: one line naming
the text, what is wrong with it and the valid faults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from releasegate.target.health_endpoint import SERVICES
from releasegate.target.security import SECURITY_HEADERS, canonical_header

FAULT_NAMES = (
    "latency",
    "error-ratio",
    "health",
    "version",
    "drop-header",
    "js-error",
    "slow-page",
    "db-down",
    "refuse-for",
    "contract",
    "cache-miss",
    "leak",
    "job-fail",
    "log-errors",
    "realtime",
    "beacon",
    "expose",
    "cors",
    "cookie-insecure",
    "server-banner",
)
# How each fault is written, for error messages and --help.
FAULT_FORMS = (
    "latency=DURATION[..DURATION]",
    "error-ratio=0..1",
    "health=down|degraded:SERVICE",
    "version=X",
    "drop-header=NAME",
    "js-error",
    "slow-page=DURATION",
    "db-down",
    "refuse-for=DURATION",
    "contract=break",
    "cache-miss",
    "leak=MB/s",
    "job-fail=0..1",
    "log-errors",
    "realtime=off",
    "beacon=off",
    "expose=PATH",
    "cors=reflect",
    "cookie-insecure",
    "server-banner",
)
_FLAGS = frozenset(
    {"js-error", "db-down", "cache-miss", "log-errors", "cookie-insecure", "server-banner"}
)
_EXAMPLES = {
    "latency": "latency=300ms or latency=100ms..400ms",
    "error-ratio": "error-ratio=0.2",
    "health": "health=down or health=degraded:database",
    "version": "version=2.0.0",
    "drop-header": "drop-header=Content-Security-Policy",
    "slow-page": "slow-page=3s",
    "refuse-for": "refuse-for=5s",
    "contract": "contract=break",
    "leak": "leak=50 (megabytes per second)",
    "job-fail": "job-fail=0.5",
    "realtime": "realtime=off",
    "beacon": "beacon=off",
    "expose": "expose=/.git/HEAD or expose=/.env",
    "cors": "cors=reflect",
}
# A fault is a test instrument: an hour of latency or refusal would only hang the run using it.
MAX_SECONDS = 300.0
# A leak faster than this fills the 2 GB cap (background.py) in seconds: nothing left to watch.
MAX_LEAK_MB_PER_S = 200.0
# The faults whose value is a plain number (the others' floats are durations).
_NUMBERS = frozenset({"error-ratio", "job-fail", "leak"})
_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>ms|s)", re.IGNORECASE)
_VERSION = re.compile(r"[\w.+\-]{1,64}")

FaultValue = float | tuple[float, float] | str | None


class FaultError(ValueError):
    """A fault text that is not one of the known faults, or has a bad value."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"bad fault {text!r}: {reason}; valid faults: {', '.join(FAULT_FORMS)}")


class _BadValue(Exception):
    """What is wrong with a fault's value; `parse_fault` adds the text and the valid faults."""


def _number(value: float) -> str:
    # 12 significant digits hide float noise (0.1 * 3) and keep texts that parse back exactly
    return f"{value:.12g}"


def format_duration(seconds: float) -> str:
    """`0.3` -> `300ms`, `1.5` -> `1.5s`: the canonical text `parse_fault` reads back."""
    if seconds < 1.0:
        return f"{_number(seconds * 1000.0)}ms"
    return f"{_number(seconds)}s"


def _seconds(text: str, *, allow_zero: bool = False) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise _BadValue(f"{text.strip()!r} is not a duration such as 300ms or 1.5s")
    seconds = float(match.group("number"))
    if match.group("unit").lower() == "ms":
        seconds /= 1000.0
    if seconds == 0.0 and not allow_zero:
        raise _BadValue("the duration must be more than 0")
    if seconds > MAX_SECONDS:
        raise _BadValue(f"the duration must be at most {format_duration(MAX_SECONDS)}")
    return seconds


def _latency(text: str) -> tuple[float, float]:
    low_text, dots, high_text = text.partition("..")
    if not dots:
        fixed = _seconds(text)
        return fixed, fixed
    low, high = _seconds(low_text, allow_zero=True), _seconds(high_text)
    if high < low:
        raise _BadValue("a range goes from low to high, e.g. 100ms..400ms")
    return low, high


def _ratio(text: str) -> float:
    try:
        ratio = float(text)
    except ValueError:
        raise _BadValue(f"{text!r} is not a number from 0 to 1") from None
    if not 0.0 <= ratio <= 1.0:  # also refuses nan
        raise _BadValue(f"the ratio must be from 0 to 1, not {text}")
    return ratio


def _leak(text: str) -> float:
    number = text.strip()
    if number.lower().endswith("mb/s"):
        number = number[:-4].strip()
    try:
        rate = float(number)
    except ValueError:
        raise _BadValue(f"{text!r} is not a number of megabytes per second such as 50") from None
    if not 0.0 < rate <= MAX_LEAK_MB_PER_S:  # also refuses nan
        raise _BadValue(
            f"the leak must be more than 0 and at most {MAX_LEAK_MB_PER_S:g} MB/s, not {text}"
        )
    return rate


def _health(text: str) -> str:
    state, colon, service = text.lower().partition(":")
    if state == "down" and not colon:
        return "down"
    if state != "degraded" or not colon:
        raise _BadValue("write health=down or health=degraded:SERVICE")
    if service not in SERVICES:
        raise _BadValue(f"unknown service {service!r}: SERVICE is one of {', '.join(SERVICES)}")
    return f"degraded:{service}"


def _version(text: str) -> str:
    if not _VERSION.fullmatch(text):
        raise _BadValue("a version is 1 to 64 letters, digits and . _ + -")
    return text


def _contract(text: str) -> str:
    if text.lower() != "break":
        raise _BadValue("write contract=break")
    return "break"


def _word(word: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() != word:
            raise _BadValue(f"the only value is {word!r}")
        return word

    return parse


# what expose=PATH may serve: a path on the service, not a way out of it
_EXPOSED = re.compile(r"/[\w.~\-/]{1,120}")


def _exposed(text: str) -> str:
    if not _EXPOSED.fullmatch(text) or ".." in text.split("/"):
        raise _BadValue(f"{text!r} is not a path such as /.git/HEAD, /.env or /index.php.bak")
    return text


def _header(text: str) -> str:
    header = canonical_header(text)
    if header is None:
        raise _BadValue(
            f"{text!r} is not one of the security headers: {', '.join(SECURITY_HEADERS)}"
        )
    return header


_VALUE_PARSERS: dict[str, Callable[[str], FaultValue]] = {
    "latency": _latency,
    "error-ratio": _ratio,
    "health": _health,
    "version": _version,
    "drop-header": _header,
    "slow-page": _seconds,
    "refuse-for": _seconds,
    "contract": _contract,
    "leak": _leak,
    "job-fail": _ratio,
    "realtime": _word("off"),
    "beacon": _word("off"),
    "expose": _exposed,
    "cors": _word("reflect"),
}


@dataclass(frozen=True)
class Fault:
    """One fault, parsed: its name and its value (seconds, a ratio, or text; None for flags)."""

    name: str
    value: FaultValue = None

    @property
    def text(self) -> str:
        """The canonical text, which `parse_fault` reads back into an equal `Fault`."""
        value = self.value
        if value is None:
            return self.name
        if isinstance(value, tuple):
            low, high = value
            shown = format_duration(low)
            return f"{self.name}={shown if low == high else f'{shown}..{format_duration(high)}'}"
        if isinstance(value, float) and self.name in _NUMBERS:
            return f"{self.name}={_number(value)}"
        if isinstance(value, float):
            return f"{self.name}={format_duration(value)}"
        return f"{self.name}={value}"


def parse_fault(text: str) -> Fault:
    """One fault from its text (`latency=300ms`, `js-error`), or `FaultError` saying why not."""
    shown = text.strip()
    name, equals, raw = shown.partition("=")
    name, raw = name.strip().lower(), raw.strip()
    if not shown:
        raise FaultError(text, "it is empty")
    if name not in FAULT_NAMES:
        raise FaultError(shown, f"unknown fault name {name!r}")
    if name in _FLAGS:
        if equals:
            raise FaultError(shown, f"{name} takes no value; write {name}")
        return Fault(name)
    if not raw:
        raise FaultError(shown, f"{name} needs a value, e.g. {_EXAMPLES[name]}")
    try:
        return Fault(name, _VALUE_PARSERS[name](raw))
    except _BadValue as exc:
        raise FaultError(shown, str(exc)) from None


@dataclass(frozen=True)
class FaultSet:
    """Every active fault, as the service applies them. `FaultSet()` is a healthy service.

    Single-valued faults (latency, error-ratio, version, ...) keep the last one given;
    `health=degraded:SERVICE` and `drop-header=NAME` add up.
    """

    latency: tuple[float, float] | None = None  # seconds, low and high (equal when fixed)
    error_ratio: float = 0.0
    health_down: bool = False
    degraded: frozenset[str] = field(default_factory=frozenset)  # service names
    version: str | None = None
    drop_headers: frozenset[str] = field(default_factory=frozenset)  # canonical header names
    js_error: bool = False
    slow_page: float = 0.0
    db_down: bool = False
    refuse_for: float = 0.0
    # ticket answers carry their id as a string, against the OpenAPI document's integer
    contract_break: bool = False
    cache_miss: bool = False  # every lookup in the ticket-list cache misses
    leak_mb_per_s: float = 0.0  # megabytes (MiB) allocated and held per second
    job_fail: float = 0.0  # the share of processed jobs that fail
    log_errors: bool = False  # ERROR lines with a traceback in the service's log
    realtime_off: bool = False  # no live-update broadcasts (WebSocket, server-sent events)
    beacon_off: bool = False  # pages send no error-tracking or analytics requests
    exposed: frozenset[str] = field(default_factory=frozenset)  # paths served that must not be
    cors_reflect: bool = False  # any Origin reflected, with credentials allowed
    cookie_insecure: bool = False  # the session cookie without Secure, HttpOnly, SameSite
    server_banner: bool = False  # `Server: aiohttp/3.x Python/3.11` (version disclosure)

    @classmethod
    def of(cls, faults: Iterable[Fault]) -> FaultSet:
        """The set with each of `faults` applied in order."""
        combined = cls()
        for fault in faults:
            combined = combined.with_fault(fault)
        return combined

    def with_fault(self, fault: Fault) -> FaultSet:
        """This set with `fault` switched on as well."""
        value = fault.value
        match fault.name:
            case "latency" if isinstance(value, tuple):
                return replace(self, latency=value)
            case "error-ratio" if isinstance(value, float):
                return replace(self, error_ratio=value)
            case "health" if value == "down":
                return replace(self, health_down=True)
            case "health" if isinstance(value, str):
                service = value.removeprefix("degraded:")
                return replace(self, degraded=self.degraded | {service})
            case "version" if isinstance(value, str):
                return replace(self, version=value)
            case "drop-header" if isinstance(value, str):
                return replace(self, drop_headers=self.drop_headers | {value})
            case "js-error":
                return replace(self, js_error=True)
            case "slow-page" if isinstance(value, float):
                return replace(self, slow_page=value)
            case "db-down":
                return replace(self, db_down=True)
            case "refuse-for" if isinstance(value, float):
                return replace(self, refuse_for=value)
            case "contract":
                return replace(self, contract_break=True)
            case "cache-miss":
                return replace(self, cache_miss=True)
            case "leak" if isinstance(value, float):
                return replace(self, leak_mb_per_s=value)
            case "job-fail" if isinstance(value, float):
                return replace(self, job_fail=value)
            case "log-errors":
                return replace(self, log_errors=True)
            case "realtime":
                return replace(self, realtime_off=True)
            case "beacon":
                return replace(self, beacon_off=True)
            case "expose" if isinstance(value, str):
                return replace(self, exposed=self.exposed | {value})
            case "cors":
                return replace(self, cors_reflect=True)
            case "cookie-insecure":
                return replace(self, cookie_insecure=True)
            case "server-banner":
                return replace(self, server_banner=True)
        raise ValueError(f"not a fault of the reference service: {fault!r}")

    def without_refusal(self) -> FaultSet:
        """The same faults but `refuse-for`, which is an event (started once), not a state."""
        return replace(self, refuse_for=0.0)

    def faults(self) -> list[Fault]:
        """The active faults, one per effect, in the order of `FAULT_NAMES`."""
        active: list[Fault] = []
        if self.latency is not None:
            active.append(Fault("latency", self.latency))
        if self.error_ratio:
            active.append(Fault("error-ratio", self.error_ratio))
        if self.health_down:
            active.append(Fault("health", "down"))
        active += [Fault("health", f"degraded:{s}") for s in sorted(self.degraded)]
        if self.version is not None:
            active.append(Fault("version", self.version))
        active += [Fault("drop-header", h) for h in sorted(self.drop_headers)]
        if self.js_error:
            active.append(Fault("js-error"))
        if self.slow_page:
            active.append(Fault("slow-page", self.slow_page))
        if self.db_down:
            active.append(Fault("db-down"))
        if self.refuse_for:
            active.append(Fault("refuse-for", self.refuse_for))
        if self.contract_break:
            active.append(Fault("contract", "break"))
        if self.cache_miss:
            active.append(Fault("cache-miss"))
        if self.leak_mb_per_s:
            active.append(Fault("leak", self.leak_mb_per_s))
        if self.job_fail:
            active.append(Fault("job-fail", self.job_fail))
        if self.log_errors:
            active.append(Fault("log-errors"))
        if self.realtime_off:
            active.append(Fault("realtime", "off"))
        if self.beacon_off:
            active.append(Fault("beacon", "off"))
        active += [Fault("expose", path) for path in sorted(self.exposed)]
        if self.cors_reflect:
            active.append(Fault("cors", "reflect"))
        if self.cookie_insecure:
            active.append(Fault("cookie-insecure"))
        if self.server_banner:
            active.append(Fault("server-banner"))
        return active

    def describe(self) -> list[str]:
        """The canonical texts of the active faults (what `parse_faults` reads back)."""
        return [fault.text for fault in self.faults()]

    def drops(self, header: str) -> bool:
        """Whether `drop-header` took the security header `header` away."""
        return header in self.drop_headers


def parse_faults(items: Iterable[str]) -> FaultSet:
    """All faults named in `items`; each item may itself be a comma-separated list.

    Empty items are skipped, so an unset or empty `RELEASEGATE_FAULTS` means no faults.
    """
    return FaultSet.of(
        parse_fault(text) for item in items for text in item.split(",") if text.strip()
    )
