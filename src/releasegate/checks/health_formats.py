"""The health formats applications already serve, each read into one `HealthReport`.

- `releasegate`: `{"status": "healthy" | "degraded" | "down", "services": {name: {"status":
  ..., "latency_ms": ...}}}`, the bundled reference service's contract;
- `health+json`: the IETF draft "Health Check Response Format for HTTP APIs"
  (`application/health+json`): `status` pass / warn / fail (and the older ok / up, error / down),
  `checks` keyed `component[:measurement]`, each a list of results with their own `status`,
  `observedValue` and `observedUnit`; `warn` is degraded;
- `spring`: Spring Boot Actuator's `/actuator/health`: `status` UP / DOWN / OUT_OF_SERVICE /
  UNKNOWN, components under `components` (Boot 2.2+), `details` (2.0, 2.1) or at the top level
  (1.x), nested for composites;
- `status`: an endpoint whose HTTP status is the answer (Rails' `/up`, Kubernetes' `/healthz`),
  with Kubernetes' verbose lines (`[+]etcd ok`, `[-]etcd failed: ...`) read as components.

Each parser says what the answer means in one vocabulary (healthy, degraded, down) and keeps
what the application said beside it. A parser raises `HealthContractError` naming the flaw when
the answer is not in its format; `fits` tells, without raising, whether an answer looks like it
(for `health_format = "auto"`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from releasegate.errors import HealthContractError

HEALTHY, DEGRADED, DOWN = "healthy", "degraded", "down"
STATUSES = (HEALTHY, DEGRADED, DOWN)  # from best to worst

HealthFormat = Literal["releasegate", "health+json", "spring", "status"]
FORMATS: tuple[HealthFormat, ...] = ("releasegate", "health+json", "spring", "status")

# the draft's statuses, and the older words it lists as equivalent
HEALTH_JSON_STATUSES = {
    "pass": HEALTHY,
    "ok": HEALTHY,
    "up": HEALTHY,
    "warn": DEGRADED,
    "fail": DOWN,
    "error": DOWN,
    "down": DOWN,
}
# UNKNOWN cannot show the application healthy; OUT_OF_SERVICE is taken out of service: down
SPRING_STATUSES = {"UP": HEALTHY, "UNKNOWN": DEGRADED, "DOWN": DOWN, "OUT_OF_SERVICE": DOWN}
_UNITS_TO_MS = {"ms": 1.0, "milliseconds": 1.0, "s": 1000.0, "seconds": 1000.0}
_VERBOSE_LINE = re.compile(r"^\[(?P<sign>[+-])\](?P<name>\S+)\s+(?P<said>.*)$")


@dataclass(frozen=True)
class HealthAnswer:
    """What the health endpoint answered: enough for every format to read it."""

    url: str
    http_status: int
    content_type: str
    text: str

    def json(self) -> Any:
        """The body as JSON, or a `ValueError` that says which URL answered what."""
        try:
            return json.loads(self.text)
        except ValueError:
            snippet = self.text[:120].replace("\n", " ")
            raise ValueError(
                f"{self.url} answered {self.content_type or 'no content type'}, not JSON:"
                f" {snippet!r}"
            ) from None


@dataclass(frozen=True)
class ServiceHealth:
    """One component: its status in releasegate's words, and what the application said."""

    name: str
    status: str
    latency_ms: float | None = None
    said: str | None = None


@dataclass(frozen=True)
class HealthReport:
    url: str
    http_status: int
    status: str
    services: Mapping[str, ServiceHealth]
    format: HealthFormat = "releasegate"
    said: str | None = None  # the application's own word for `status` ("UP", "warn", "200")
    lists_services: bool = True  # the answer has per-component results to judge

    @property
    def unhealthy(self) -> dict[str, str]:
        """Service name -> what it reported, for every service that is not healthy."""
        return {n: s.said or s.status for n, s in self.services.items() if s.status != HEALTHY}

    @property
    def shown_status(self) -> str:
        """`'down'`, or `'DOWN' (down)` when the application has a word of its own."""
        if self.said is None or self.said == self.status:
            return repr(self.status)
        return f"{self.said!r} ({self.status})"


def _object(answer: HealthAnswer) -> dict[str, Any]:
    payload = answer.json()
    if not isinstance(payload, dict):
        raise HealthContractError(
            f"{answer.url}: body is {type(payload).__name__}, not a JSON object"
        )
    return payload


def parse_releasegate(answer: HealthAnswer) -> HealthReport:
    """releasegate's own contract (see the module docstring)."""
    payload = _object(answer)
    status = payload.get("status")
    if status not in STATUSES:
        raise HealthContractError(
            f"{answer.url}: 'status' is {status!r}, expected one of {STATUSES}"
        )
    raw_services = payload.get("services", {})
    if not isinstance(raw_services, dict):
        raise HealthContractError(f"{answer.url}: 'services' is not an object")
    services: dict[str, ServiceHealth] = {}
    for name, raw in raw_services.items():
        if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
            shown = raw.get("status") if isinstance(raw, dict) else raw
            raise HealthContractError(
                f"{answer.url}: services.{name}.status is {shown!r}, expected one of {STATUSES}"
            )
        latency = raw.get("latency_ms")
        services[name] = ServiceHealth(name, raw["status"], _number(latency))
    return HealthReport(answer.url, answer.http_status, status, services, "releasegate")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUSES.index, default=HEALTHY)


def _health_json_status(url: str, where: str, value: object) -> tuple[str, str]:
    if not isinstance(value, str) or value.lower() not in HEALTH_JSON_STATUSES:
        raise HealthContractError(
            f"{url}: {where} is {value!r}, expected pass, warn or fail (health+json)"
        )
    return HEALTH_JSON_STATUSES[value.lower()], value


def parse_health_json(answer: HealthAnswer) -> HealthReport:
    """The IETF draft's health+json (see the module docstring)."""
    payload = _object(answer)
    status, said = _health_json_status(answer.url, "'status'", payload.get("status"))
    raw_checks = payload.get("checks", {})
    if not isinstance(raw_checks, dict):
        raise HealthContractError(f"{answer.url}: 'checks' is not an object (health+json)")
    services: dict[str, ServiceHealth] = {}
    for key, results in raw_checks.items():
        entries = results if isinstance(results, list) else [results]
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise HealthContractError(
                    f"{answer.url}: checks.{key}[{index}] is not an object (health+json)"
                )
            name = key
            if len(entries) > 1:
                name = f"{key}/{entry.get('componentId', index)}"
            if "status" in entry:
                entry_status, entry_said = _health_json_status(
                    answer.url, f"checks.{key}[{index}].status", entry["status"]
                )
            else:  # the draft makes it optional: the result shares the overall status
                entry_status, entry_said = status, said
            services[name] = ServiceHealth(name, entry_status, _latency_of(key, entry), entry_said)
    return HealthReport(
        answer.url,
        answer.http_status,
        status,
        services,
        "health+json",
        said,
        lists_services=bool(services),
    )


def _latency_of(key: str, entry: Mapping[str, Any]) -> float | None:
    """A response time in milliseconds, when the result is one (`component:responseTime`)."""
    if not key.endswith(":responseTime"):
        return None
    value = _number(entry.get("observedValue"))
    scale = _UNITS_TO_MS.get(str(entry.get("observedUnit", "ms")).lower())
    return None if value is None or scale is None else value * scale


def _spring_status(url: str, where: str, value: object) -> tuple[str, str]:
    if not isinstance(value, str) or value not in SPRING_STATUSES:
        raise HealthContractError(
            f"{url}: {where} is {value!r}, expected one of {tuple(SPRING_STATUSES)} (spring)"
        )
    return SPRING_STATUSES[value], value


def _spring_children(node: Mapping[str, Any]) -> dict[str, Any] | None:
    """A node's components: `components` (Boot 2.2+), `details` holding statuses (2.0, 2.1),
    or the other keys holding statuses (1.x); None for a leaf."""
    for key in ("components", "details"):
        found = node.get(key)
        if (
            isinstance(found, dict)
            and found
            and all(isinstance(v, dict) and "status" in v for v in found.values())
        ):
            return found
    legacy = {
        k: v
        for k, v in node.items()
        if k not in ("status", "components", "details", "groups")
        and isinstance(v, dict)
        and "status" in v
    }
    return legacy or None


def _spring_leaves(
    url: str, prefix: str, children: Mapping[str, Any], into: dict[str, ServiceHealth]
) -> None:
    for name, node in children.items():
        path = f"{prefix}{name}"
        status, said = _spring_status(url, f"{path.replace('/', '.')}.status", node.get("status"))
        nested = _spring_children(node)
        if nested:  # a composite: its leaves say what its own status sums up
            _spring_leaves(url, f"{path}/", nested, into)
            continue
        details = node.get("details")
        latency = None
        if isinstance(details, dict):
            latency = _number(details.get("latency_ms") or details.get("responseTime"))
        into[path] = ServiceHealth(path, status, latency, said)


def parse_spring(answer: HealthAnswer) -> HealthReport:
    """Spring Boot Actuator's health (see the module docstring)."""
    payload = _object(answer)
    status, said = _spring_status(answer.url, "'status'", payload.get("status"))
    services: dict[str, ServiceHealth] = {}
    children = _spring_children(payload)
    if children:
        _spring_leaves(answer.url, "", children, services)
    return HealthReport(
        answer.url,
        answer.http_status,
        status,
        services,
        "spring",
        said,
        lists_services=bool(services),
    )


def parse_status(answer: HealthAnswer, expect_text: str | None = None) -> HealthReport:
    """The HTTP status is the answer: 2xx is up, anything else down; with `expect_text`, a 2xx
    without it is down too. Kubernetes' verbose lines become components."""
    said = str(answer.http_status)
    status = HEALTHY if 200 <= answer.http_status < 300 else DOWN
    if status == HEALTHY and expect_text and expect_text not in answer.text:
        status, said = DOWN, f"{answer.http_status} without {expect_text!r}"
    services: dict[str, ServiceHealth] = {}
    for line in answer.text.splitlines()[:200]:
        found = _VERBOSE_LINE.match(line.strip())
        if found:
            up = found["sign"] == "+"
            name = found["name"]
            services[name] = ServiceHealth(name, HEALTHY if up else DOWN, said=found["said"])
    return HealthReport(
        answer.url,
        answer.http_status,
        status,
        services,
        "status",
        said,
        lists_services=bool(services),
    )


def _looks_like_json_object(answer: HealthAnswer) -> dict[str, Any] | None:
    try:
        payload = answer.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def fits(fmt: HealthFormat, answer: HealthAnswer) -> bool:
    """Whether `answer` looks like `fmt` (its status field speaks the format's words); `status`
    fits everything."""
    if fmt == "status":
        return True
    if fmt == "health+json" and "application/health+json" in answer.content_type.lower():
        return True
    payload = _looks_like_json_object(answer)
    if payload is None:
        return False
    status = payload.get("status")
    if not isinstance(status, str):
        return False
    if fmt == "releasegate":
        return status in STATUSES and isinstance(payload.get("services", {}), dict)
    if fmt == "health+json":
        return status.lower() in HEALTH_JSON_STATUSES and status == status.lower()
    return status in SPRING_STATUSES  # spring


# the formats read from a JSON body; `status` (which also takes an expected text) stands apart
JSON_PARSERS: dict[HealthFormat, Callable[[HealthAnswer], HealthReport]] = {
    "releasegate": parse_releasegate,
    "health+json": parse_health_json,
    "spring": parse_spring,
}
