"""SLO: the team's own signals, `[[metrics]]` and `[[logs]]` with stage "slo"
(docs/metrics.md)."""

from releasegate.pytest_plugin.metric_checks import test_log, test_metric

STAGE = "slo"
__all__ = ["test_log", "test_metric"]
