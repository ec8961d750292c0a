"""The order a gate run takes its checks in: the checklist's, not the folders' alphabet.

pytest runs files in the order it finds them, so `suites/load` came first and the smoke checks
last. A gate run sorts its checks by stage instead (stable: within a stage, the order found):
pre-deploy, smoke, post-deploy, load, SLO. Load comes before the SLO gate because the SLO gate
reads the load stage's statistics as one of its sources. The order also lets waits overlap:
the SLO gate's samples, when the pre-deploy baseline takes them (`slo_fixtures`), are taken
first, and the scrapes a Prometheus needs to see them happen while the smoke checks run.
"""

from __future__ import annotations

import pytest

from releasegate.pytest_plugin._keys import GATE_RUN
from releasegate.pytest_plugin.report_classification import stage_of
from releasegate.stages import Stage

RUN_ORDER: tuple[Stage, ...] = ("pre_deploy", "smoke", "post_deploy", "load", "slo")
_POSITION: dict[str, int] = {stage: n for n, stage in enumerate(RUN_ORDER)}


def run_position(item: pytest.Item) -> int:
    """Where a check's stage (the one its evidence records) runs; a check with no stage runs
    after all of them."""
    return _POSITION.get(stage_of(item) or "", len(RUN_ORDER))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # trylast: after the suites' own hooks gave each check its stage marker
    if config.stash.get(GATE_RUN, None) is not None:
        items.sort(key=run_position)
