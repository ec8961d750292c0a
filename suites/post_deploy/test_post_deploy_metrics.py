"""Post-deploy: the team's own signals, `[[metrics]]` and `[[logs]]` with stage "post_deploy"
(docs/metrics.md)."""

from releasegate.pytest_plugin.metric_checks import test_log, test_metric

STAGE = "post_deploy"
__all__ = ["test_log", "test_metric"]
