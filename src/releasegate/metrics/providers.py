"""A metric's provider made from its entry: the one place that maps `provider = "..."` to a
module, so adding a provider is one module and one line here."""

from __future__ import annotations

from releasegate.config import Environment, MetricCheck
from releasegate.errors import EvidenceMissing
from releasegate.metrics.command_provider import CommandProvider
from releasegate.metrics.prometheus_provider import PrometheusProvider
from releasegate.metrics.provider import Provider
from releasegate.metrics.web_provider import WebProvider, headers_for
from releasegate.slo.prometheus import Prometheus


def provider_for(
    check: MetricCheck, env: Environment, target_url: str, prometheus_url: str | None = None
) -> Provider:
    """The provider of `check`; `prometheus_url` is a Prometheus started for this run (used
    when neither the metric nor [slo.prometheus] names one). EvidenceMissing when the metric
    has no Prometheus to ask."""
    if check.provider == "prometheus":
        assert check.query is not None
        configured = env.model.slo.prometheus
        url = check.url or prometheus_url or (configured.url if configured else None)
        if url is None:
            raise EvidenceMissing(
                f"{check.name}: no Prometheus to ask: set `url` on the metric or [slo.prometheus]"
                f" url in {env.path} (or [reference] prometheus = true with Prometheus"
                " installed)"
            )
        return PrometheusProvider(Prometheus(url.rstrip("/"), timeout_s=check.timeout), check.query)
    if check.provider == "web":
        assert check.url is not None
        url = target_url + check.url if check.url.startswith("/") else check.url
        return WebProvider(
            url=url,
            method=check.method,
            body=check.body,
            headers={**headers_for(url, target_url, env.target.headers), **check.headers},
            jsonpath=check.jsonpath,
            jmespath=check.jmespath,
            timeout_s=check.timeout,
            verify_tls=env.target.verify_tls,
        )
    assert check.command is not None
    return CommandProvider(check.command, check.timeout, env.repository)
