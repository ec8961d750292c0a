"""Pre-deploy: the certificates users will meet are valid and not about to expire."""

from functools import cache
from pathlib import Path

import pytest

from releasegate.checks.tls import CertificateInfo, inspect_certificate
from releasegate.config import Environment
from releasegate.pytest_plugin.fixtures import Expect


@cache
def _inspect(host: str, port: int, ca_file: str | None, timeout_s: float) -> CertificateInfo:
    return inspect_certificate(
        host, port, ca_file=Path(ca_file) if ca_file else None, timeout_s=timeout_s
    )


@pytest.fixture
def certificate(tls_host: tuple[str, int] | None, env: Environment) -> CertificateInfo:
    """The host's certificate, read once for both checks."""
    if tls_host is None:
        pytest.skip(f"the target is not https and [tls] hosts is empty (env={env.name})")
    config = env.model.tls
    ca_file = str(env.repository_path(config.ca_file)) if config.ca_file else None
    return _inspect(*tls_host, ca_file, config.timeout)


def test_certificate_is_valid_for_the_host(
    certificate: CertificateInfo, env: Environment, expect: Expect
) -> None:
    """The TLS certificate of {id} is valid.

    The chain verifies against the trusted CAs (and `[tls] ca_file`) and names the host."""
    expect(
        "verified",
        "yes" if certificate.verified else "no",
        "==",
        "yes",
        where=f"{certificate.host}:{certificate.port}",
        context=f"env={env.name}",
        message=f"{certificate.host}:{certificate.port}: the certificate does not verify:"
        f" {certificate.verify_error} (subject {certificate.subject}, issuer"
        f" {certificate.issuer})",
    )


def test_certificate_expires_after_min_days(
    certificate: CertificateInfo, env: Environment, expect: Expect
) -> None:
    """The TLS certificate of {id} is not about to expire.

    More than `[tls] min_days` (default 14) are left before the certificate expires."""
    minimum = env.model.tls.min_days

    expect(
        "days left",
        certificate.days_left,
        ">",
        minimum,
        unit="d",
        where=f"{certificate.host}:{certificate.port}",
        context=f"env={env.name}",
        message=f"{certificate.host}:{certificate.port}: the certificate expires"
        f" {certificate.not_after:%Y-%m-%d %H:%M} UTC, in {certificate.days_left:.1f} days"
        f" (more than {minimum:g} required; [tls] min_days)",
    )
