"""Load: the team's own signals, `[[metrics]]` and `[[logs]]` with stage "load", measured after
the load itself: memory grown, queues backed up (docs/metrics.md)."""

from releasegate.pytest_plugin.metric_checks import test_log, test_metric

STAGE = "load"
__all__ = ["test_log", "test_metric"]
