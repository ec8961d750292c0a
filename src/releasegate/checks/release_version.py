"""The release version on every instance: what each one says it runs, which ones were not
reached at all (missing evidence, not a wrong version), and which ones run something else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from releasegate.checks.transport import describe_error, is_unreachable


@dataclass(frozen=True)
class InstanceVersion:
    """What one instance says it runs (None with `error` when it did not say)."""

    url: str
    version: str | None
    error: str | None = None
    unreachable: bool = False  # no HTTP answer at all: a transport error


def read_version(
    client: httpx.Client, instance: str, path: str, key: str, timeout_s: float
) -> InstanceVersion:
    """GET `instance + path` and read `key` from its JSON; never raises for the target's faults."""
    url = instance.rstrip("/") + path
    try:
        response = client.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return InstanceVersion(instance, None, describe_error(exc), unreachable=is_unreachable(exc))
    if response.status_code != 200:
        return InstanceVersion(instance, None, f"GET {url} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return InstanceVersion(instance, None, f"GET {url} did not answer JSON")
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return InstanceVersion(instance, None, f"GET {url}: no {key!r} in the answer")
    return InstanceVersion(instance, str(value))


def unreachable_instances(answers: Sequence[InstanceVersion]) -> str | None:
    """The instances that could not be reached at all, as a message; None when all answered
    (an instance that answered anything, even a 500, was reached)."""
    lost = [a for a in answers if a.unreachable]
    if not lost:
        return None
    listed = "; ".join(f"{a.url}: {a.error}" for a in lost)
    return (
        f"{len(lost)} of {len(answers)} instances could not be reached (1 attempt each):"
        f" {listed}; is the instance up and the URL right?"
    )


def disagreeing(expected: str, answers: Sequence[InstanceVersion]) -> list[InstanceVersion]:
    """The instances that do not run `expected` (or did not say what they run)."""
    return [a for a in answers if a.version != expected]


def describe(answers: Sequence[InstanceVersion]) -> str:
    return "; ".join(f"{a.url}: {a.version or a.error}" for a in answers)
