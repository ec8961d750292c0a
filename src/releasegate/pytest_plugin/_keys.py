"""Typed state shared between the plugin's hooks and fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from releasegate.browser.artefacts import Artefact
from releasegate.config import Environment
from releasegate.redact import Redactor


@dataclass
class GateRun:
    """The gate run this pytest process takes part in (controller or xdist worker)."""

    env: Environment
    base_url: str
    run_id: str
    run_dir: Path
    reports_dir: Path
    release_version: str | None
    redactor: Redactor
    controller: bool
    notes: list[str] = field(default_factory=list)
    # the Prometheus started beside the reference service, if any
    prometheus_url: str | None = None
    # the bundled gates' folder this run added to its collection, if any
    bundled_suites: str | None = None

    def to_workerinput(self) -> dict[str, Any]:
        return {
            "env": str(self.env.path.resolve()),
            "env_name": self.env.name,
            "base_url": self.base_url,
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "reports_dir": str(self.reports_dir),
            "release_version": self.release_version,
            "prometheus_url": self.prometheus_url,
            "bundled_suites": self.bundled_suites,
        }


GATE_RUN = pytest.StashKey[GateRun]()
MEASUREMENTS = pytest.StashKey[list[dict[str, Any]]]()
MEASUREMENTS_SENT = pytest.StashKey[int]()
# files kept for a check (screenshots, traces, ...), and how many went out with earlier reports
ARTEFACTS = pytest.StashKey[list[Artefact]]()
ARTEFACTS_SENT = pytest.StashKey[int]()
# the check's title for people (`releasegate.titles`), made at collection
TITLE = pytest.StashKey[str]()
