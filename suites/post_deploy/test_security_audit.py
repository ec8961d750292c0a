"""Post-deploy: a passive security audit (docs/security-audit.md), one check per rule, on `/`,
the pages, the GET endpoints and the `[headers]` and `[security]` paths; GET only, bounded."""

import pytest

from releasegate.checks.security_audit import RuleCheck, judge_findings
from releasegate.checks.security_probes import PassiveAudit
from releasegate.config import Environment
from releasegate.probe import ProbeClient
from releasegate.pytest_plugin.fixtures import Expect, Measure


@pytest.fixture(scope="module")
def security_audit(http: ProbeClient, env: Environment) -> PassiveAudit:
    """The audit's requests, shared by its checks (each path fetched once)."""
    return PassiveAudit(http, env.model)


def test_security(
    security_check: RuleCheck | None,
    security_audit: PassiveAudit,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Security audit: {security_check}.

    One rule of the passive audit: cookies flagged, no foreign origin allowed to read, no
    version given away, no leaked file, no directory listing, plain http redirected to
    https."""
    if security_check is None:
        pytest.skip(f"[security] enabled = false in {env.path.name}: no passive audit")
    if security_check.rule == "https-redirect" and not security_audit.https:
        pytest.skip("the target is http: there is no https site its http twin must redirect to")
    evidence = security_audit.evidence(security_check.rule)
    verdict = judge_findings(
        security_check, evidence.findings, looked_at=evidence.looked_at, notes=evidence.notes
    )
    # the note says what was looked at, and what was not judged (Secure over http)
    measure(
        "findings",
        verdict.measured,
        threshold=0,
        comparison="<=",
        samples=evidence.looked_at,
        note=verdict.message,
    )

    expect.judged(verdict, context=f"env={env.name}")
