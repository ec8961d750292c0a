"""Smoke: the team's own signals, `[[metrics]]` and `[[logs]]` with stage "smoke"
(docs/metrics.md)."""

from releasegate.pytest_plugin.metric_checks import test_log, test_metric

STAGE = "smoke"
__all__ = ["test_log", "test_metric"]
