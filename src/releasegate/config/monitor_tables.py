"""`[monitor]`: `releasegate monitor` runs gates on a schedule, bounded in time."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from releasegate.config.strict_base import HttpUrl, Ratio, Seconds, StrictModel
from releasegate.stages import Stage


def _smoke_only() -> list[Stage]:
    return ["smoke"]


MONITOR_MAX_S = 31 * 86400.0  # a monitor is bounded; a month is the longest it may run


class MonitorConfig(StrictModel):
    """`[monitor]`: `releasegate monitor` runs gates on a schedule and alerts on state changes."""

    model_config = ConfigDict(populate_by_name=True)

    every: Annotated[Seconds, Field(le=MONITOR_MAX_S)] = 300.0  # never two checks at once
    # the whole monitor's bound (`for` is a Python keyword, hence the alias)
    for_: Annotated[Seconds, Field(le=MONITOR_MAX_S)] = Field(default=24 * 3600.0, alias="for")
    stages: list[Stage] = Field(default_factory=_smoke_only, min_length=1)
    # consecutive failed checks before the down alert; fewer that recover are a blip
    alert_after: int = Field(default=2, ge=1, le=1000)
    objective: Ratio = 0.999  # availability: up checks over checks that measured
    check_timeout: Seconds = 600.0  # a gate run still going after this is a measurement problem
    # fetched when a check fails: no answer means the monitor cannot reach its own network
    # (default: [target] canary_url)
    canary_url: HttpUrl | None = None
