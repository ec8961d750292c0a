"""Post-deploy: the security headers are sent, one check each, on every `[headers] paths`."""

from dataclasses import replace

import pytest

from releasegate.checks.security_headers import header_judged, judge_header
from releasegate.config import Environment
from releasegate.probe import ProbeClient
from releasegate.pytest_plugin.fixtures import Expect, Measure


def test_security_header(
    header_check: str,
    header_path: str,
    http: ProbeClient,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Page {header_path} sends a safe {header_check} security header.

    CSP restricts scripts; HSTS lasts six months (https); nosniff; framing refused; a
    Referrer-Policy that keeps paths to the origin."""
    https = http.base_url.startswith("https://")
    if header_check == "hsts" and not (https or env.model.headers.hsts_on_http):
        pytest.skip("HSTS is only honoured over https ([headers] hsts_on_http to judge it anyway)")
    probe = http.get(header_path)
    assert probe.response is not None, f"{probe.label}: no response (env={env.name})"
    headers = probe.response.headers
    verdict = judge_header(header_check, headers, hsts_min_age_s=env.model.headers.hsts_min_age)
    measure(header_judged(header_check, headers), verdict.measured)

    expect.judged(
        replace(verdict, message=f"{probe.label}: {verdict.message}", where=probe.url),
        context=f"env={env.name}",
    )
