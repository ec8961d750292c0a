"""The team's own checks, `[[metrics]]` and `[[logs]]`: providers give values (`provider`, one
module per provider: `prometheus_provider`, `web_provider`, `command_provider`), `measurement`
judges one value against the conditions, `analysis` measures `count` times and judges the lot
with Argo Rollouts' limits, `metric_baseline` keeps the values measured before the deploy, and
`log_scan` (with `log_sources`) counts new matching lines in a log."""
