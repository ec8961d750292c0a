"""`releasegate baseline`'s part for `[[metrics]]`: every metric with `before = "baseline"`
measured once and kept in the baseline's folder, one line each to print."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from releasegate.config import Environment
from releasegate.errors import EvidenceMissing
from releasegate.metrics.measurement import shown
from releasegate.metrics.metric_baseline import take_before
from releasegate.metrics.providers import provider_for


def take_metric_befores(env: Environment, target: str, folder: Path) -> Iterator[tuple[str, bool]]:
    """(line, whether it was taken) per metric with `before = "baseline"`."""
    for check in env.model.metrics:
        if check.before != "baseline":
            continue
        try:
            provider = provider_for(check, env, target)
            before, _ = take_before(
                check.name, provider, environment=env.name, target_url=target, folder=folder
            )
        except EvidenceMissing as exc:
            yield f"metric before the deploy not taken: {exc}", False
            continue
        yield f"metric {check.name!r} before the deploy: {shown(before.value, check.unit)}", True
