"""`[[realtime]]`: live updates over a WebSocket or server-sent events, checked by the smoke gate
(docs/realtime.md).

An entry names a channel (`url`: ws:// or wss:// for a WebSocket, http(s):// or a path on the
target for SSE; `kind` says which when the scheme does not), what to send once connected, and
what must arrive within `timeout`: a text and/or JSON fields. `after` is an HTTP request sent to
the target once the channel is open, whose broadcast is the expected message (how Turbo
Streams, Action Cable and Supabase Realtime are really checked); it is skipped on read-only
environments when it changes data.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from releasegate.config.strict_base import HttpMethod, JsonKey, Seconds, StrictModel, UrlPath

RealtimeKind = Literal["websocket", "sse"]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what a scheme means when `kind` is not given
_KIND_OF_SCHEME: dict[str, RealtimeKind] = {
    "ws": "websocket",
    "wss": "websocket",
    "http": "sse",
    "https": "sse",
}
# a check never waits longer than this for its message
MAX_TIMEOUT_S = 120.0


def _check_channel_url(value: str) -> str:
    if value.startswith("/"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in _KIND_OF_SCHEME or not parts.hostname:
        raise ValueError(
            "must be a ws://, wss://, http:// or https:// URL with a host, or a path on the"
            f" target such as '/cable' (got {value!r})"
        )
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily, on access
    except ValueError:
        raise ValueError(f"has an invalid port (got {value!r})") from None
    return value


ChannelUrl = Annotated[str, AfterValidator(_check_channel_url)]


class RealtimeAction(StrictModel):
    """`after`: one HTTP request to the target (with `[target] headers`), sent once the channel
    is open; it must answer 2xx, and the check waits for the broadcast it causes."""

    path: UrlPath
    method: HttpMethod = "POST"
    body: dict[str, Any] | list[Any] | None = None  # sent as JSON
    headers: dict[str, str] = Field(default_factory=dict)
    # changes data (default: POST, PUT, PATCH, DELETE): the check is skipped on read-only
    # environments rather than sending it
    writes: bool | None = None

    @property
    def changes_data(self) -> bool:
        return self.writes if self.writes is not None else self.method in WRITE_METHODS

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class RealtimeCheck(StrictModel):
    """One `[[realtime]]` entry."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    url: ChannelUrl
    # default from the scheme: ws/wss a WebSocket, http/https or a path server-sent events
    kind: RealtimeKind | None = None
    subprotocols: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    # sent besides [target] headers (which go to the target's own origin only)
    headers: dict[str, str] = Field(default_factory=dict)
    # sent in order once connected (WebSocket only): a text as is, a table or list as JSON
    send: list[str | dict[str, Any] | list[Any]] = Field(default_factory=list)
    expect_text: Annotated[str, Field(min_length=1)] | None = None
    # fields that must have these values: names ("type") or JSONPaths ("$.ticket.title")
    expect_json: dict[JsonKey, Any] | None = None
    timeout: Annotated[Seconds, Field(le=MAX_TIMEOUT_S)] = 5.0
    after: RealtimeAction | None = None
    advisory: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> RealtimeCheck:
        which = f"realtime check {self.name!r}"
        if self.expect_text is None and not self.expect_json:
            raise ValueError(
                f"{which} expects nothing: give `expect_text` and/or `expect_json` (an empty"
                " channel is never a pass)"
            )
        scheme = urlsplit(self.url).scheme
        implied = _KIND_OF_SCHEME.get(scheme)
        if self.kind == "sse" and implied == "websocket":
            raise ValueError(f"{which}: kind 'sse' needs an http(s) URL or a path, not {scheme}://")
        if self.channel_kind == "sse":
            for key in ("send", "subprotocols"):
                if getattr(self, key):
                    raise ValueError(
                        f"{which}: `{key}` is for WebSockets; server-sent events only listen"
                    )
        return self

    @property
    def channel_kind(self) -> RealtimeKind:
        """`kind`, or what the URL's scheme says (a path: server-sent events)."""
        if self.kind is not None:
            return self.kind
        return _KIND_OF_SCHEME.get(urlsplit(self.url).scheme, "sse")

    @property
    def writes(self) -> bool:
        """Whether the check changes data on the target (its `after` action does)."""
        return self.after is not None and self.after.changes_data
