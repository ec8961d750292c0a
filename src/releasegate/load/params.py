"""What a Locust run is told by the gate, through its process environment: the profile and its
numbers, the target, the guardrails. Read back by the shapes and the guard inside Locust."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

PREFIX = "RELEASEGATE_LOAD_"
# the request name under which the guard counts requests it refused (not on the target)
OFF_TARGET = "releasegate: refused request off the target"
# the profile whose peak is fixed by its name
THOUSAND = 1000


@dataclass(frozen=True)
class LoadParams:
    """One load run's numbers (seconds, users per second)."""

    profile: str = "smoke-load"
    users: int = 10
    spawn_rate: float = 10.0
    duration_s: float = 10.0
    wait_min_s: float = 0.5
    wait_max_s: float = 1.5
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    max_users: int = 100
    max_requests: int = 1_000_000
    abort_failure_ratio: float | None = None
    abort_after_s: float = 5.0
    guard_file: str = ""
    answered_file: str = ""
    # for the default locustfile: the environment's [[endpoints]] as
    # {"method", "path", "name", "weight", "writes"}
    endpoints: list[dict[str, object]] = field(default_factory=list)

    @property
    def peak_users(self) -> int:
        """The most users the profile runs (`thousand-users` ramps to 1000 whatever `users`)."""
        return THOUSAND if self.profile == "thousand-users" else self.users

    def to_environ(self) -> dict[str, str]:
        """For the Locust processes' environment (the headers hold secrets: environment only,
        never argv, which any local user can read)."""
        return {f"{PREFIX}PARAMS": json.dumps(asdict(self))}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> LoadParams:
        raw = (os.environ if environ is None else environ).get(f"{PREFIX}PARAMS")
        if not raw:
            return cls()
        return cls(**json.loads(raw))
