"""The JSON Schemas in docs/ are the models' own: regenerate them when a model changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from releasegate.evidence.decision_file import DecisionRecord
from releasegate.evidence.results import Results
from releasegate.ops.monitor.uptime_history import UptimeHistory
from releasegate.ops.rollout.engine import RolloutState

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("results.schema.json", Results),
        ("decision.schema.json", DecisionRecord),
        ("uptime.schema.json", UptimeHistory),
        ("rollout.schema.json", RolloutState),
    ],
)
def test_documented_schema_matches_the_model(name: str, model: type[BaseModel]) -> None:
    """docs/<name> equals the schema pydantic derives from the model."""
    documented = json.loads((DOCS / name).read_text())

    assert documented == model.model_json_schema(by_alias=True), (
        f"docs/{name} is stale: regenerate it from {model.__name__}.model_json_schema()"
    )
