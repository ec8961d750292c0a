"""The Prometheus client: one number per query, and every way of not getting one is missing
evidence with the query in the message; a histogram's buckets, and the p95 judged by the bucket
bounds around its interval (histogram_quantile alone is a point inside a bucket)."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from releasegate.errors import EvidenceMissing, PrometheusUnavailable
from releasegate.outcome import Judgement
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.prometheus import Prometheus, bucket_query, render
from releasegate.slo.sli import BucketPercentile, Origin
from releasegate.slo.statistics import BucketInterval, histogram_interval

QUERY = "sum(rate(http_requests_total[5m]))"


def client(body: object, status: int = 200) -> Prometheus:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["query"] == QUERY
        text = body if isinstance(body, str) else json.dumps(body)
        return httpx.Response(status, text=text)

    return Prometheus("http://prom.test", transport=httpx.MockTransport(answer))


def vector(*values: str) -> dict[str, object]:
    result = [{"metric": {}, "value": [1.0, v]} for v in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_a_single_series_gives_its_value() -> None:
    assert client(vector("12.5")).query(QUERY) == 12.5


def test_a_scalar_gives_its_value() -> None:
    body = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}}

    assert client(body).query(QUERY) == 3.0


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        pytest.param(vector(), 200, "the query returned no series", id="no series"),
        pytest.param(vector("1", "2"), 200, "returned 2 series; aggregate it", id="several"),
        pytest.param(vector("NaN"), 200, "NaN: no data in its window", id="nan"),
        pytest.param(
            {"status": "error", "errorType": "bad_data", "error": "parse error"},
            400,
            "refused the query: bad_data: parse error",
            id="refused",
        ),
        pytest.param("Service Unavailable", 503, "answered 503, not JSON", id="not ready"),
    ],
)
def test_no_number_is_missing_evidence_naming_the_query(
    body: object, status: int, expected: str
) -> None:
    with pytest.raises(PrometheusUnavailable) as caught:
        client(body, status).query(QUERY)

    assert isinstance(caught.value, EvidenceMissing)
    assert expected in str(caught.value)
    assert QUERY in str(caught.value)


def test_an_unreachable_prometheus_is_missing_evidence() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    prometheus = Prometheus("http://prom.test", transport=httpx.MockTransport(refuse))

    with pytest.raises(PrometheusUnavailable, match="Prometheus unreachable: ConnectError"):
        prometheus.query(QUERY)


def test_queries_get_their_window_and_quantile() -> None:
    text = render(
        "histogram_quantile({quantile}, sum by (le) (rate(x_bucket[{window}])))", "5m", 0.95
    )

    assert text == "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))"
    assert render('sum(x{status=~"5.."}[{window}])', "1h") == 'sum(x{status=~"5.."}[1h])'


def bucket_vector(*pairs: tuple[str, str]) -> dict[str, object]:
    result = [{"metric": {"le": le}, "value": [1.0, v]} for le, v in pairs]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_buckets_come_sorted_by_their_bound_with_inf_last() -> None:
    body = bucket_vector(("+Inf", "10"), ("0.1", "4"), ("0.5", "9"), ("0.05", "1"))

    assert client(body).buckets(QUERY) == [(0.05, 1.0), (0.1, 4.0), (0.5, 9.0), (math.inf, 10.0)]


def test_buckets_without_le_or_inf_are_missing_evidence() -> None:
    with pytest.raises(PrometheusUnavailable, match="no \\+Inf bucket"):
        client(bucket_vector(("0.1", "4"))).buckets(QUERY)
    with pytest.raises(PrometheusUnavailable, match="without an `le` label"):
        client(vector("3")).buckets(QUERY)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            "histogram_quantile({quantile}, sum by (le) (rate(x_bucket[{window}])))",
            "sum by (le) (rate(x_bucket[{window}]))",
            id="the default shape",
        ),
        pytest.param("max(my_p95_gauge)", None, id="another shape: no buckets"),
        pytest.param("histogram_quantile(0.95, sum by (le) (x))", None, id="fixed quantile"),
    ],
)
def test_the_buckets_under_a_histogram_quantile_query(query: str, expected: str | None) -> None:
    assert bucket_query(query) == expected


# cumulative counts of 1,000 requests in seconds' buckets
BUCKETS = [(0.05, 100.0), (0.1, 600.0), (0.25, 940.0), (0.5, 990.0), (1.0, 1000.0)]


@pytest.mark.parametrize(
    ("buckets", "samples", "expected"),
    [
        # rank 950 and its interval (ranks ~937..964) fall around the 0.1..0.25 / 0.25..0.5 edge
        pytest.param(
            [*BUCKETS, (math.inf, 1000.0)], 1000, BucketInterval(0.1, 0.5, 0.95, 1000), id="two"
        ),
        pytest.param(
            [(0.1, 0.0), (0.25, 2.0), (math.inf, 2.0)],  # rates, scaled to 100 requests
            100,
            BucketInterval(0.1, 0.25, 0.95, 100),
            id="rates scale to the request count",
        ),
        pytest.param(
            [(0.1, 10.0), (math.inf, 100.0)],
            100,
            BucketInterval(0.1, math.inf, 0.95, 100),
            id="+Inf",
        ),
        pytest.param([(0.1, 0.0), (math.inf, 0.0)], 100, None, id="no requests"),
        pytest.param([(0.1, 1.0), (math.inf, 1.0)], 50, None, id="too few for a p95"),
    ],
)
def test_the_p95_interval_is_the_bucket_bounds_around_its_ranks(
    buckets: list[tuple[float, float]], samples: int, expected: BucketInterval | None
) -> None:
    assert histogram_interval(buckets, 0.95, samples) == expected


@pytest.mark.parametrize(
    ("interval", "limit_ms", "judgement", "words"),
    [
        pytest.param(BucketInterval(0.1, 0.25, 0.95, 900), 300, Judgement.PASS, "within 300 ms"),
        pytest.param(BucketInterval(0.5, 1.0, 0.95, 900), 500, Judgement.FAIL, "exceeds 500 ms"),
        pytest.param(
            BucketInterval(0.25, 0.5, 0.95, 900),
            300,
            Judgement.INCONCLUSIVE,
            "300 ms lies inside that range, so the histogram cannot tell; a bucket boundary at"
            ' 300 ms (le="0.3") would',
            id="a threshold inside the bucket",
        ),
        pytest.param(
            BucketInterval(0.25, math.inf, 0.95, 900),
            300,
            Judgement.INCONCLUSIVE,
            "250..+Inf ms",
            id="+Inf",
        ),
        pytest.param(None, 300, Judgement.PASS, "a point estimate", id="no buckets"),
    ],
)
def test_a_histogram_percentile_is_judged_by_its_bucket_bounds(
    interval: BucketInterval | None, limit_ms: float, judgement: Judgement, words: str
) -> None:
    sli = BucketPercentile(Origin("prometheus", "env=prod"), 0.95, 280.0, interval, 900)
    verdict = judge(sli, Objective(Indicator.LATENCY, limit_ms, 0.95))

    assert verdict.judgement is judgement
    assert words in verdict.message
    assert "p95 latency 280.0 ms" in verdict.message
