"""The TLS check against real TLS servers on 127.0.0.1, with certificates from a test CA."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme

from releasegate.checks.tls import CertificateInfo, host_port_from_url, inspect_certificate
from releasegate.errors import ConfigError, EvidenceMissing, TlsUnreachable
from tests.tls_server import plain_server, silent_server, tls_server, unused_port

# days_left is counted from this moment (passed as `now`): the module is imported at collection,
# and in a full run its tests start many minutes later
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway CA; only clients given its file trust what it issues."""
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CA certificate as a PEM file, the way an environment's `ca_file` would name it."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def inspect(cert: trustme.LeafCert, ca_file: Path, **kwargs: Any) -> CertificateInfo:
    """Serve `cert`, inspect it trusting the test CA, stop the server."""
    with tls_server(cert) as port:
        return inspect_certificate("127.0.0.1", port, ca_file=ca_file, timeout_s=5.0, **kwargs)


def test_a_valid_certificate_is_verified_with_its_expiry(ca: trustme.CA, ca_file: Path) -> None:
    """A certificate from a trusted CA for the right address verifies; days_left is counted."""
    cert = ca.issue_cert("127.0.0.1", "localhost", not_after=NOW + timedelta(days=90))

    with tls_server(cert) as port:
        info = inspect_certificate("127.0.0.1", port, ca_file=ca_file, timeout_s=5.0, now=NOW)

    assert info.verified, info.verify_error
    assert info.verify_error is None
    assert (info.host, info.port) == ("127.0.0.1", port)
    assert info.days_left == pytest.approx(90, abs=0.01)
    assert info.not_after.tzinfo is not None
    assert abs(info.not_after - (NOW + timedelta(days=90))) < timedelta(seconds=2)
    assert info.issuer != info.subject
    assert "trustme" in info.issuer


def test_a_certificate_expiring_soon_is_still_verified(ca: trustme.CA, ca_file: Path) -> None:
    """Three days from expiry is valid today: verified, with about three days left."""
    cert = ca.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=3))

    info = inspect(cert, ca_file, now=NOW)

    assert info.verified, info.verify_error
    assert info.days_left == pytest.approx(3, abs=0.01)


def test_an_expired_certificate_is_read_but_not_verified(ca: trustme.CA, ca_file: Path) -> None:
    """An expired certificate fails verification, and its (past) expiry is still reported."""
    cert = ca.issue_cert(
        "127.0.0.1",
        not_before=NOW - timedelta(days=30),
        not_after=NOW - timedelta(days=2),
    )

    info = inspect(cert, ca_file, now=NOW)

    assert not info.verified
    assert info.verify_error is not None
    assert "expired" in info.verify_error
    assert info.days_left == pytest.approx(-2, abs=0.01)


def test_a_certificate_for_another_name_is_not_verified(ca: trustme.CA, ca_file: Path) -> None:
    """A trusted certificate for other.example does not verify for the name asked for."""
    cert = ca.issue_cert(
        "other.example", common_name="other.example", not_after=NOW + timedelta(days=90)
    )

    info = inspect(cert, ca_file, server_name="localhost")

    assert not info.verified
    assert info.verify_error is not None
    assert "Hostname mismatch" in info.verify_error
    assert "CN=other.example" in info.subject
    assert info.days_left > 89


def test_a_certificate_without_the_address_is_not_verified(ca: trustme.CA, ca_file: Path) -> None:
    """Connecting by IP checks the certificate's IP addresses, not its DNS names."""
    cert = ca.issue_cert("localhost", not_after=NOW + timedelta(days=90))

    info = inspect(cert, ca_file)

    assert not info.verified
    assert info.verify_error is not None
    assert "mismatch" in info.verify_error


def test_a_private_ca_is_not_trusted_without_its_file(ca: trustme.CA) -> None:
    """System CAs alone do not trust the test CA: ca_file is what adds it."""
    cert = ca.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=90))

    with tls_server(cert) as port:
        info = inspect_certificate("127.0.0.1", port, timeout_s=5.0)

    assert not info.verified
    assert info.verify_error is not None
    assert "issuer" in info.verify_error


def test_days_left_is_counted_from_the_given_time(ca: trustme.CA, ca_file: Path) -> None:
    """`now` moves the point days_left is counted from, nothing else."""
    cert = ca.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=90))

    info = inspect(cert, ca_file, now=NOW + timedelta(days=100))

    assert info.verified
    assert info.days_left == pytest.approx(-10, abs=0.01)


def test_a_refused_port_is_unreachable_naming_host_and_port() -> None:
    """Nothing listening: missing evidence that says where, not a failed check."""
    port = unused_port()

    with pytest.raises(TlsUnreachable, match=rf"^127\.0\.0\.1:{port}: ") as caught:
        inspect_certificate("127.0.0.1", port, timeout_s=2.0)

    assert isinstance(caught.value, EvidenceMissing)
    assert not isinstance(caught.value, AssertionError)


def test_a_plain_http_listener_is_unreachable() -> None:
    """A port that answers without TLS gives no certificate: unreachable, with the reason."""
    with (
        plain_server() as port,
        pytest.raises(TlsUnreachable, match=rf"^127\.0\.0\.1:{port}: TLS handshake failed"),
    ):
        inspect_certificate("127.0.0.1", port, timeout_s=2.0)


def test_a_silent_listener_times_out_within_the_budget() -> None:
    """A port that accepts but never answers costs timeout_s, then is unreachable."""
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(TlsUnreachable, match=rf"^127\.0\.0\.1:{port}: .*timed out"):
            inspect_certificate("127.0.0.1", port, timeout_s=0.5)
        elapsed = time.monotonic() - started

    assert 0.4 < elapsed < 2.0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(None, "No such file", id="missing"),
        pytest.param("not a certificate\n", "expected PEM", id="not-pem"),
    ],
)
def test_an_unusable_ca_file_is_a_config_error(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    """A wrong ca_file is the environment's mistake, reported before any connection."""
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_text(content)

    with pytest.raises(ConfigError, match=reason) as caught:
        inspect_certificate("127.0.0.1", unused_port(), ca_file=ca_file)

    assert str(ca_file) in str(caught.value)


def test_a_naive_now_is_refused() -> None:
    """A time without a zone cannot be compared with a certificate's UTC expiry."""
    with pytest.raises(ValueError, match="timezone-aware"):
        inspect_certificate("127.0.0.1", unused_port(), now=datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://example.com", ("example.com", 443), id="default-port"),
        pytest.param("https://example.com/", ("example.com", 443), id="root-path"),
        pytest.param("https://Example.COM:8443/api?q=1", ("example.com", 8443), id="port-and-path"),
        pytest.param("HTTPS://example.com", ("example.com", 443), id="scheme-case"),
        # pragma: allowlist nextline secret
        pytest.param("https://user:pw@example.com:9443/", ("example.com", 9443), id="userinfo"),
        pytest.param("https://127.0.0.1:8443", ("127.0.0.1", 8443), id="ipv4"),
        pytest.param("https://[::1]/", ("::1", 443), id="ipv6-default-port"),
        pytest.param("https://[2001:db8::1]:8443/x", ("2001:db8::1", 8443), id="ipv6-with-port"),
    ],
)
def test_host_port_from_url(url: str, expected: tuple[str, int]) -> None:
    """The host and port a TLS check connects to for a URL."""
    assert host_port_from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("http://example.com", "expected an https:// URL", id="http"),
        pytest.param("example.com:443", "expected an https:// URL", id="no-scheme"),
        pytest.param("https:///path", "no host", id="no-host"),
        pytest.param("https://example.com:notaport/", "example.com:notaport", id="bad-port"),
        pytest.param("https://example.com:99999/", "out of range", id="port-out-of-range"),
    ],
)
def test_host_port_from_url_rejects(url: str, message: str) -> None:
    """URLs with no TLS endpoint in them are refused with the URL in the message."""
    with pytest.raises(ValueError, match=message):
        host_port_from_url(url)


def test_host_port_from_url_keeps_a_password_out_of_the_message() -> None:
    """A credential in a rejected URL is not repeated in the error."""
    with pytest.raises(ValueError, match="expected an https") as caught:
        host_port_from_url("http://admin:s3cr3t-pass@example.com/")  # pragma: allowlist secret

    assert "s3cr3t-pass" not in str(caught.value)
