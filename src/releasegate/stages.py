"""The gate stages: one list, used by the environment model, the evidence and the plugin."""

from __future__ import annotations

from typing import Literal, get_args

Stage = Literal["pre_deploy", "smoke", "post_deploy", "slo", "load"]
STAGES: tuple[Stage, ...] = get_args(Stage)
# The pytest markers of the stages, as `pytest --markers` describes them
DESCRIPTIONS: dict[Stage, str] = {
    "pre_deploy": "pre-deploy gate",
    "smoke": "smoke gate",
    "post_deploy": "post-deploy gate",
    "slo": "SLO gate",
    "load": "load gate",
}
