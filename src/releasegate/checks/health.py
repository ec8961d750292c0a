"""The health check: read the health endpoint's answer in the format it speaks
(`[target] health_format`, see health_formats.py) and judge what it says.

Reading is strict about shape (an answer that is not in its format is a failed contract, named
precisely) and says nothing about health itself: the smoke and pre-deploy gates judge the report.
"""

from __future__ import annotations

from typing import Literal

import httpx

from releasegate.checks.health_formats import (
    FORMATS,
    HEALTHY,
    JSON_PARSERS,
    STATUSES,
    HealthAnswer,
    HealthFormat,
    HealthReport,
    ServiceHealth,
    fits,
    parse_releasegate,
    parse_status,
)
from releasegate.outcome import Judged

__all__ = [
    "FORMATS",
    "STATUSES",
    "HealthAnswer",
    "HealthFormat",
    "HealthReport",
    "ServiceHealth",
    "answer_of",
    "judge_services",
    "judge_status",
    "parse_releasegate",
    "read_health",
    "recognise",
]

FormatSetting = HealthFormat | Literal["auto"]


def answer_of(url: str, response: httpx.Response) -> HealthAnswer:
    """What the health endpoint answered, for the format readers."""
    return HealthAnswer(
        url, response.status_code, response.headers.get("content-type", ""), response.text
    )


def recognise(answer: HealthAnswer) -> HealthFormat:
    """The first format the answer fits, in the order of `FORMATS` (`status` fits all)."""
    return next(fmt for fmt in FORMATS if fits(fmt, answer))


def read_health(
    answer: HealthAnswer, fmt: FormatSetting = "auto", expect_text: str | None = None
) -> HealthReport:
    """The answer read in `fmt` (or the format it fits, for `auto`); `HealthContractError` or
    `ValueError` naming the flaw when it is not in that format."""
    chosen = recognise(answer) if fmt == "auto" else fmt
    if chosen == "status":
        return parse_status(answer, expect_text)
    return JSON_PARSERS[chosen](answer)


def judge_status(report: HealthReport) -> Judged:
    """The overall status is healthy."""
    if report.status == HEALTHY:
        return Judged.passed(f"GET {report.url}: {report.shown_status}", where=report.url)
    return Judged.failed(
        f"GET {report.url} reports status {report.shown_status} (HTTP {report.http_status},"
        f" {report.format} format), expected healthy",
        measured=report.status,
        limit=HEALTHY,
        where=report.url,
    )


def judge_services(report: HealthReport) -> Judged:
    """Every service the health endpoint lists is healthy (and, in releasegate's format, which
    requires them, it lists some)."""
    if not report.services:
        if report.lists_services:
            return Judged.failed(f"GET {report.url} lists no services", where=report.url)
        return Judged.inconclusive(
            f"GET {report.url} lists no components ({report.format} format): nothing to judge",
            where=report.url,
        )
    unhealthy = report.unhealthy
    if unhealthy:
        return Judged.failed(
            f"GET {report.url}: unhealthy services {unhealthy}, expected every service 'healthy'",
            measured=len(unhealthy),
            limit=0,
            where=report.url,
        )
    return Judged.passed(
        f"GET {report.url}: {len(report.services)} services healthy", measured=0, limit=0
    )
