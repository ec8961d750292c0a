"""What certificate a TLS endpoint serves, whether clients will trust it, and when it expires.

The pre-deploy gate needs two answers that a plain HTTPS request conflates: "will clients accept
this certificate?" and "how long until it expires?". A verifying client stops at the first
problem and never shows the certificate, so an expired or misnamed certificate would leave the
gate with an error and no expiry date. This module therefore handshakes with verification on,
keeps OpenSSL's reason if that fails, and handshakes once more with verification off only to
read the certificate. The second handshake never sends data, so trusting an unverified peer for
it is harmless.

A certificate that is served but not trusted is a measurement (`verified=False`), for the check
to judge; no handshake at all means the gate could not measure, and `TlsUnreachable` (missing
evidence) says so.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from releasegate.errors import ConfigError, TlsUnreachable

_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class CertificateInfo:
    """The leaf certificate a server presented, and whether a default client accepts it."""

    host: str
    port: int
    subject: str
    issuer: str
    not_after: datetime
    days_left: float
    verified: bool
    verify_error: str | None


def inspect_certificate(
    host: str,
    port: int = 443,
    *,
    server_name: str | None = None,
    ca_file: Path | None = None,
    timeout_s: float = 5.0,
    now: datetime | None = None,
) -> CertificateInfo:
    """Handshake with `host:port` and describe the certificate it serves.

    `server_name` is what the client asks for (SNI) and checks the certificate against; it
    defaults to `host`, and differs when connecting to an address behind a name (a load balancer
    IP, a port-forward). `ca_file` adds private CAs to the system's, as a client configured for
    this environment would have; one that cannot be loaded is the environment's mistake
    (`ConfigError`), not the target's. `timeout_s` bounds both handshakes together, not each
    one, so a gate's worst case is known; name resolution is the operating system's and not
    covered.
    Verification uses the real clock; `now` only moves the point `days_left` is counted from.
    """
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    name = server_name or host
    deadline = time.monotonic() + timeout_s

    verify_error: str | None = None
    try:
        der = _peer_certificate(host, port, name, _verifying_context(ca_file), deadline)
    except ssl.SSLCertVerificationError as exc:
        verify_error = exc.verify_message or str(exc)
        der = _peer_certificate(host, port, name, _inspecting_context(), deadline)

    from cryptography import x509  # on first use: a sixth of a gate run's start otherwise

    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    return CertificateInfo(
        host=host,
        port=port,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_after=not_after,
        days_left=(not_after - now).total_seconds() / _SECONDS_PER_DAY,
        verified=verify_error is None,
        verify_error=verify_error,
    )


def host_port_from_url(url: str) -> tuple[str, int]:
    """The host and port a TLS check of `url` connects to; 443 unless the URL names a port.

    Only https URLs are accepted: any other scheme has no TLS certificate to inspect, and guessing
    443 for it would check something the URL does not use.
    """
    parts = urlsplit(url.strip())
    shown = _without_userinfo(url)  # a password in the URL stays out of the message
    if parts.scheme.lower() != "https":
        raise ValueError(f"{shown!r}: expected an https:// URL to check TLS on")
    host = parts.hostname
    if not host:
        raise ValueError(f"{shown!r}: no host in the URL")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{shown!r}: {exc}") from None
    return host, 443 if port is None else port


def parse_host(entry: str) -> tuple[str, int]:
    """A `[tls] hosts` entry -> (host, port): `https://h[:p]/...`, `h:p`, `[::1]:p`, or a bare
    host (443). ValueError says what is wrong with it."""
    text = entry.strip()
    if "://" in text:
        return host_port_from_url(text)
    return host_port_from_url(f"https://{text}")


def _verifying_context(ca_file: Path | None) -> ssl.SSLContext:
    """System trust plus `ca_file`, with hostname checking: what a well-configured client does.

    `ssl.create_default_context(cafile=...)` would load only that file and drop the system CAs,
    which turns a publicly trusted certificate into a verification failure.
    """
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(
                [f"ca_file {ca_file}: cannot load CA certificates ({reason}); expected PEM"]
            ) from None
    return context


def _inspecting_context() -> ssl.SSLContext:
    """Accepts any certificate, to read one that verification rejected; never used for data."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _peer_certificate(
    host: str, port: int, server_name: str, context: ssl.SSLContext, deadline: float
) -> bytes:
    """Handshake, return the leaf certificate (DER), close. Verification errors propagate."""
    where = _authority(host, port)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TlsUnreachable(f"{where}: timed out before the TLS handshake; is the port right?")
    try:
        with socket.create_connection((host, port), timeout=remaining) as raw:
            raw.settimeout(max(deadline - time.monotonic(), 0.001))
            # SNI carries names only; for an IP address Python sends none and matches IP SANs.
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError:
        raise
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        raise TlsUnreachable(
            f"{where}: TLS handshake failed ({reason}); is this port serving TLS?"
        ) from None
    except OSError as exc:
        reason = _os_reason(exc)
        raise TlsUnreachable(f"{where}: {reason}; is the service up and the port right?") from None
    if not der:
        raise TlsUnreachable(f"{where}: the server completed a handshake without a certificate")
    return der


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host ({exc.strerror})"
    return exc.strerror or str(exc) or type(exc).__name__


def _authority(host: str, port: int) -> str:
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = False
    return f"[{host}]:{port}" if is_v6 else f"{host}:{port}"


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
