"""The Prometheus client: one number per query, and every way of not getting one is missing
evidence with the query in the message."""

from __future__ import annotations

import json

import httpx
import pytest

from releasegate.errors import EvidenceMissing
from releasegate.prometheus import Prometheus, PrometheusUnavailable, render

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
