"""Transport errors of the gate's own requests: which ones mean the target could not be reached
at all (nothing answered), how one reads in a message, and whether a whole sample of requests
shows an unreachable target.

A target that never answered is not a target found wrong: when every request of a check failed
in the transport (refused, reset, DNS, connect timeout) and none got an HTTP answer, the check
raises `TargetUnreachable` (missing evidence) instead of failing. Once the target has answered
at least once, a later connection error is a finding: it went away while being measured.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from releasegate.probe import Sample

# Transport errors that mean "nothing answered": a timeout after connecting (ReadTimeout,
# WriteTimeout) is not one, the target took the request and was slow.
_NO_CONNECTION: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,  # connection reset by peer
    httpx.WriteError,
    httpx.CloseError,
)
# RemoteProtocolError is left out: something accepted the connection and spoke (badly)


def is_unreachable(exc: BaseException) -> bool:
    """Whether a request's exception says the target could not be reached (no HTTP answer)."""
    return isinstance(exc, _NO_CONNECTION)


def _unreachable_name(error: str) -> bool:
    """The same question for a recorded `"ConnectError: ..."` (a sample keeps its error's
    class name and text)."""
    found = getattr(httpx, error.split(":", 1)[0].strip(), None)
    return isinstance(found, type) and issubclass(found, _NO_CONNECTION)


def describe_error(exc: BaseException) -> str:
    """`ConnectError: [Errno 111] Connection refused`, cut to 200 characters."""
    return f"{type(exc).__name__}: {str(exc) or 'no answer'}"[:200]


def unreachable_sample(samples: Sequence[Sample], base_url: str) -> str | None:
    """Why a sample shows the target unreachable (no request got an HTTP answer and every one
    failed in the transport), with the URL, the attempts and the commonest error; else None.
    An empty sample is not this question's to answer."""
    if not samples or any(s.status is not None for s in samples):
        return None
    if not all(s.error and _unreachable_name(s.error) for s in samples):
        return None
    counted: dict[str, int] = {}
    for s in samples:
        key = s.error or ""
        counted[key] = counted.get(key, 0) + 1
    error, n = max(counted.items(), key=lambda kv: kv[1])
    return (
        f"{base_url}: none of {len(samples)} requests got an answer, every one a transport"
        f" error ({n}x {error}); is the target up and the URL right?"
    )
