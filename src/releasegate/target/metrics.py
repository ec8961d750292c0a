"""The service's Prometheus metrics, in a registry of its own.

Requests (count and latency by route template, method and status), rate-limit refusals, the
ticket-list cache (`cache_requests_total`, `cache_hits_total`), the job queue
(`jobs_enqueued_total`, `jobs_processed_total`, `jobs_failed_total`: this process's work; the
totals across restarts are in `GET /api/stats`) and the process (`process_resident_memory_bytes`
and the other `process_*` series of prometheus_client's ProcessCollector, on Linux).

A per-app registry (not prometheus_client's global one) lets several apps live in one process,
as in tests, without "duplicated timeseries" errors or counts leaking between them.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
)
from prometheus_client import generate_latest as _generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Request count and latency by route template, method and status; rate-limit hits; cache
    lookups; jobs; the process's memory and CPU."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["route", "method", "status"]
        self.requests = Counter(
            "http_requests_total", "HTTP requests answered", labels, registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, injected delays included",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "http_rate_limited_total",
            "Requests refused with 429 by the rate limit",
            ["route"],
            registry=self.registry,
        )
        self.cache_requests = Counter(
            "cache_requests_total",
            "Lookups in the in-process cache of the ticket list (GET /api/tickets)",
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "cache_hits_total",
            "Lookups in the cache of the ticket list that found it fresh",
            registry=self.registry,
        )
        self.jobs_enqueued = Counter(
            "jobs_enqueued_total",
            "Background jobs enqueued by this process",
            registry=self.registry,
        )
        self.jobs_processed = Counter(
            "jobs_processed_total",
            "Background jobs this process processed successfully",
            registry=self.registry,
        )
        self.jobs_failed = Counter(
            "jobs_failed_total",
            "Background jobs that failed in this process",
            registry=self.registry,
        )
        # process_resident_memory_bytes, process_cpu_seconds_total, ... (Linux /proc)
        ProcessCollector(registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request. `route` is the template, which bounds the label values."""
        labels = (route, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def cache_lookup(self, *, hit: bool) -> None:
        """Count one lookup in the cache."""
        self.cache_requests.inc()
        if hit:
            self.cache_hits.inc()

    def render(self) -> bytes:
        """Everything, in the Prometheus text format."""
        return _generate_latest(self.registry)
