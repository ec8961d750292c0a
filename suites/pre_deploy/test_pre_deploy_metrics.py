"""Pre-deploy: the team's own signals, `[[metrics]]` and `[[logs]]` with stage "pre_deploy",
and the value of every metric with `before = "baseline"`, measured before the deploy and kept
for the stages after it (docs/metrics.md)."""

from releasegate.pytest_plugin.metric_checks import test_log, test_metric, test_metric_before

STAGE = "pre_deploy"
__all__ = ["test_log", "test_metric", "test_metric_before"]
