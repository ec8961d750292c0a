"""`[security]`: the post-deploy gate's passive security audit (docs/security-audit.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from releasegate.config.strict_base import HttpUrl, Seconds, StrictModel, UrlPath

# the audit's rules, as `test_security[<rule>]` names them (checks/security_audit.py judges them)
SecurityRule = Literal[
    "cookie-flags",
    "cors",
    "version-disclosure",
    "exposed-files",
    "directory-listing",
    "https-redirect",
]
# blocking: its findings fail a blocking check; advisory: a check marked advisory (a warning);
# off: no check at all
Severity = Literal["blocking", "advisory", "off"]


class SecurityConfig(StrictModel):
    """`[security]`: a passive audit in the spirit of the OWASP ZAP baseline scan: GET only, on
    `/`, the `[[pages]]`, the GET `[[endpoints]]`, the `[headers] paths` and `paths`; bounded by
    `max_requests` and `max_duration`."""

    enabled: bool = True
    paths: list[UrlPath] = Field(default_factory=list)  # audited besides the listed ones
    # a rule's severity instead of its default (version-disclosure advisory; cookie-flags and
    # cors split their findings into a blocking and an advisory check; the others blocking)
    rules: dict[SecurityRule, Severity] = Field(default_factory=dict)
    exposed_files: list[UrlPath] = Field(default_factory=list)  # probed besides the usual ones
    max_requests: int = Field(default=60, ge=1, le=1000)
    max_duration: Seconds = 60.0  # the whole audit; requests past it are not sent
    # https-redirect: the plain-http twin of an https target (default: http://HOST/)
    http_url: HttpUrl | None = None
