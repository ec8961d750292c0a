"""The health formats applications serve: each read as healthy, degraded or down, with its
components; a malformed answer named precisely; `auto` recognising each."""

from __future__ import annotations

import json
from typing import Any

import pytest

from releasegate.checks.health import (
    HealthAnswer,
    judge_services,
    judge_status,
    read_health,
    recognise,
)
from releasegate.errors import HealthContractError
from releasegate.outcome import Judgement

URL = "http://127.0.0.1:8000/health"


def answer(body: Any, status: int = 200, content_type: str = "application/json") -> HealthAnswer:
    text = body if isinstance(body, str) else json.dumps(body)
    return HealthAnswer(URL, status, content_type, text)


HEALTH_JSON = "application/health+json"

# (format, answer, overall status, {component: status})
READINGS = [
    pytest.param(
        "releasegate",
        answer({"status": "healthy", "services": {"database": {"status": "healthy"}}}),
        "healthy",
        {"database": "healthy"},
        id="releasegate-healthy",
    ),
    pytest.param(
        "releasegate",
        answer({"status": "degraded", "services": {"database": {"status": "degraded"}}}, 503),
        "degraded",
        {"database": "degraded"},
        id="releasegate-degraded",
    ),
    pytest.param(
        "releasegate",
        answer({"status": "down", "services": {}}, 503),
        "down",
        {},
        id="releasegate-down",
    ),
    pytest.param(
        "health+json",
        answer(
            {
                "status": "pass",
                "checks": {
                    "postgres:responseTime": [
                        {
                            "componentId": "a1",
                            "status": "pass",
                            "observedValue": 12,
                            "observedUnit": "ms",
                        },
                        {
                            "componentId": "b2",
                            "status": "pass",
                            "observedValue": 0.02,
                            "observedUnit": "s",
                        },
                    ],
                    "uptime": [{"status": "pass", "observedValue": 1209600}],
                },
            },
            content_type=HEALTH_JSON,
        ),
        "healthy",
        {
            "postgres:responseTime/a1": "healthy",
            "postgres:responseTime/b2": "healthy",
            "uptime": "healthy",
        },
        id="health+json-pass",
    ),
    pytest.param(
        "health+json",
        answer(
            {
                "status": "warn",
                "checks": {"cache": [{"status": "warn"}], "db": [{"status": "pass"}]},
            },
            content_type=HEALTH_JSON,
        ),
        "degraded",
        {"cache": "degraded", "db": "healthy"},
        id="health+json-warn-is-degraded",
    ),
    pytest.param(
        "health+json",
        answer({"status": "fail", "checks": {"db": [{"status": "fail"}]}}, 503, HEALTH_JSON),
        "down",
        {"db": "down"},
        id="health+json-fail",
    ),
    pytest.param(
        "spring",
        answer(
            {
                "status": "UP",
                "components": {
                    "db": {"status": "UP", "details": {"database": "PostgreSQL"}},
                    "diskSpace": {"status": "UP", "details": {"free": 1, "total": 2}},
                    "ping": {"status": "UP"},
                },
            }
        ),
        "healthy",
        {"db": "healthy", "diskSpace": "healthy", "ping": "healthy"},
        id="spring-up",
    ),
    pytest.param(
        "spring",
        answer(
            {
                "status": "DOWN",
                "components": {
                    "db": {
                        "status": "DOWN",
                        "components": {
                            "primary": {"status": "UP"},
                            "replica": {"status": "DOWN", "details": {"error": "timeout"}},
                        },
                    },
                    "ping": {"status": "UP"},
                },
            },
            503,
        ),
        "down",
        {"db/primary": "healthy", "db/replica": "down", "ping": "healthy"},
        id="spring-down-nested",
    ),
    pytest.param(
        "spring",
        answer({"status": "UNKNOWN", "details": {"custom": {"status": "UNKNOWN"}}}),
        "degraded",
        {"custom": "degraded"},
        id="spring-2.0-details-unknown-is-degraded",
    ),
    pytest.param(
        "spring",
        answer({"status": "OUT_OF_SERVICE", "diskSpace": {"status": "UP", "free": 3}}, 503),
        "down",
        {"diskSpace": "healthy"},
        id="spring-1.x-out-of-service",
    ),
    pytest.param(
        "status",
        answer("<html><body>OK</body></html>", content_type="text/html"),
        "healthy",
        {},
        id="status-rails-up",
    ),
    pytest.param(
        "status",
        answer("Service Unavailable", 503, "text/plain"),
        "down",
        {},
        id="status-503",
    ),
    pytest.param(
        "status",
        answer(
            "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n",
            500,
            "text/plain",
        ),
        "down",
        {"ping": "healthy", "log": "healthy", "etcd": "down"},
        id="status-kubernetes-verbose",
    ),
]


@pytest.mark.parametrize(("fmt", "given", "status", "components"), READINGS)
def test_each_format_reads_status_and_components(
    fmt: str, given: HealthAnswer, status: str, components: dict[str, str]
) -> None:
    report = read_health(given, fmt)  # type: ignore[arg-type]

    assert report.format == fmt
    assert report.status == status
    assert {n: s.status for n, s in report.services.items()} == components


@pytest.mark.parametrize(("fmt", "given", "status", "components"), READINGS)
def test_auto_recognises_each_format(
    fmt: str, given: HealthAnswer, status: str, components: dict[str, str]
) -> None:
    assert recognise(given) == fmt
    assert read_health(given).status == status


MALFORMED = [
    pytest.param(
        "releasegate", answer({"status": "UP"}), "'status' is 'UP'", id="releasegate-word"
    ),
    pytest.param(
        "releasegate",
        answer({"status": "healthy", "services": {"db": "fine"}}),
        "services.db.status is 'fine'",
        id="releasegate-service",
    ),
    pytest.param(
        "health+json",
        answer({"status": "green"}, content_type=HEALTH_JSON),
        "'status' is 'green', expected pass, warn or fail",
        id="health+json-word",
    ),
    pytest.param(
        "health+json",
        answer({"status": "pass", "checks": {"db": [{"status": "meh"}]}}),
        "checks.db[0].status is 'meh'",
        id="health+json-check",
    ),
    pytest.param(
        "spring",
        answer({"status": "up"}),
        "'status' is 'up', expected one of ('UP', 'UNKNOWN', 'DOWN', 'OUT_OF_SERVICE')",
        id="spring-lowercase",
    ),
    pytest.param(
        "spring",
        answer({"status": "UP", "components": {"db": {"status": "FINE"}}}),
        "db.status is 'FINE'",
        id="spring-component",
    ),
    pytest.param("spring", answer([1, 2]), "body is list, not a JSON object", id="spring-list"),
    pytest.param(
        "releasegate",
        answer("<html>502 Bad Gateway</html>", 502, "text/html"),
        "answered text/html, not JSON",
        id="releasegate-html",
    ),
]


@pytest.mark.parametrize(("fmt", "given", "flaw"), MALFORMED)
def test_an_answer_not_in_its_format_names_the_flaw(
    fmt: str, given: HealthAnswer, flaw: str
) -> None:
    with pytest.raises((HealthContractError, ValueError)) as raised:
        read_health(given, fmt)  # type: ignore[arg-type]

    assert flaw in str(raised.value)
    assert URL in str(raised.value)


def test_auto_falls_back_to_the_http_status_for_any_other_answer() -> None:
    """A JSON body in no known format (or HTML) is judged by its status code."""
    assert recognise(answer({"healthy": True})) == "status"
    assert read_health(answer({"healthy": True})).status == "healthy"
    assert read_health(answer("<h1>oops</h1>", 500, "text/html")).status == "down"


def test_the_health_json_media_type_decides_even_with_an_older_word() -> None:
    """`application/health+json` with "up": health+json, not Spring's or releasegate's."""
    assert recognise(answer({"status": "up"}, content_type=HEALTH_JSON)) == "health+json"
    assert recognise(answer({"status": "down"}, content_type="application/json")) == "releasegate"


def test_expect_text_makes_a_2xx_without_it_down() -> None:
    report = read_health(answer("maintenance", 200, "text/plain"), "status", expect_text="OK")

    assert report.status == "down"
    assert report.said == "200 without 'OK'"
    assert read_health(answer("all OK", 200, "text/plain"), "status", "OK").status == "healthy"


def test_a_response_time_check_becomes_a_latency_in_ms() -> None:
    report = read_health(
        answer(
            {
                "status": "pass",
                "checks": {
                    "db:responseTime": [
                        {"status": "pass", "observedValue": 0.25, "observedUnit": "s"}
                    ]
                },
            },
            content_type=HEALTH_JSON,
        )
    )

    assert report.services["db:responseTime"].latency_ms == 250


def test_the_status_judgement_names_the_applications_word_and_format() -> None:
    report = read_health(answer({"status": "DOWN"}, 503))
    judged = judge_status(report)

    assert judged.judgement is Judgement.FAIL
    assert "reports status 'DOWN' (down) (HTTP 503, spring format), expected healthy" in (
        judged.message
    )
    assert judge_status(read_health(answer({"status": "UP"}))).judgement is Judgement.PASS


def test_unhealthy_components_are_named_with_what_they_said() -> None:
    report = read_health(
        answer({"status": "warn", "checks": {"cache": [{"status": "warn"}]}}, 200, HEALTH_JSON)
    )
    judged = judge_services(report)

    assert judged.judgement is Judgement.FAIL
    assert "{'cache': 'warn'}" in judged.message


def test_the_releasegate_format_must_list_services_others_need_not() -> None:
    bare = read_health(answer({"status": "healthy", "services": {}}))
    rails = read_health(answer("", 200, "text/html"))

    assert judge_services(bare).judgement is Judgement.FAIL
    assert bare.lists_services
    assert not rails.lists_services
