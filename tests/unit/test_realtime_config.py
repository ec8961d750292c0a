"""`[[realtime]]` as the environment file says it: the kind from the scheme, defaults, and every
mistake one line naming the file, the key and what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from releasegate.config import Environment, load_environment
from releasegate.errors import ConfigError

TARGET = '[target]\nbase_url = "https://shop.example.com"\n'
ROOT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, text: str) -> Environment:
    (tmp_path / "prod.toml").write_text(TARGET + text, encoding="utf-8")
    return load_environment("prod", tmp_path, {})


def _problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        pytest.param('"wss://shop.example.com/cable"', "", "websocket", id="wss-websocket"),
        pytest.param('"ws://127.0.0.1:3000/socket"', "", "websocket", id="ws-websocket"),
        pytest.param('"https://shop.example.com/events"', "", "sse", id="https-sse"),
        pytest.param('"/api/events"', "", "sse", id="path-sse"),
        pytest.param('"/cable"', 'kind = "websocket"\n', "websocket", id="path-websocket"),
        pytest.param(
            '"https://x.example.com/ws"', 'kind = "websocket"\n', "websocket", id="https-ws"
        ),
    ],
)
def test_the_kind_comes_from_the_scheme_unless_given(
    tmp_path: Path, url: str, kind: str, expected: str
) -> None:
    """ws/wss is a WebSocket, http(s) or a path server-sent events; `kind` overrides."""
    env = _load(tmp_path, f'[[realtime]]\nname = "c"\nurl = {url}\n{kind}expect_text = "x"\n')

    assert env.model.realtime[0].channel_kind == expected


def test_an_entry_takes_its_defaults(tmp_path: Path) -> None:
    """Five seconds, blocking, nothing sent, no action; an after POST writes."""
    env = _load(
        tmp_path,
        '[[realtime]]\nname = "c"\nurl = "/cable"\nkind = "websocket"\n'
        'expect_json = { type = "ticket.created", "$.ticket.title" = "t" }\n'
        '[[realtime]]\nname = "d"\nurl = "/e"\nexpect_text = "x"\n'
        'after = { path = "/api/tickets", body = { title = "t" } }\n'
        '[[realtime]]\nname = "g"\nurl = "/e"\nexpect_text = "x"\n'
        'after = { method = "GET", path = "/api/poke" }\n',
    )
    first, second, third = env.model.realtime

    assert (first.timeout, first.advisory, first.send, first.after) == (5.0, False, [], None)
    assert first.expect_json == {"type": "ticket.created", "$.ticket.title": "t"}
    assert not first.writes
    assert second.after is not None
    assert second.after.method == "POST"
    assert second.writes
    assert not third.writes


def test_the_staging_example_is_valid_once_uncommented(tmp_path: Path) -> None:
    """The commented example in environments/staging.example.toml shows every key, validly."""
    text = (ROOT / "environments" / "staging.example.toml").read_text(encoding="utf-8")
    start = text.index("# [[realtime]]")
    block = []
    for line in text[start:].splitlines():
        if not line.startswith("# "):
            break
        block.append(line.removeprefix("# "))
    env_text = "\n".join(block).replace("${TURBO_STREAM}", "stream-name")

    entry = _load(tmp_path, env_text + "\n").model.realtime[0]

    keys = set(type(entry).model_fields)
    assert keys <= set(entry.model_fields_set), keys - entry.model_fields_set


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param('url = "/e"', r"expects nothing: give `expect_text` and/or", id="no-expect"),
        pytest.param('url = "/e"\nexpect_json = {}', r"expects nothing", id="empty-expect-json"),
        pytest.param(
            'url = "ftp://shop.example.com/x"\nexpect_text = "x"',
            r"realtime\[0\]\.url.*must be a ws://, wss://, http:// or https:// URL",
            id="bad-scheme",
        ),
        pytest.param('url = "wss://"\nexpect_text = "x"', r"URL with a host", id="no-host"),
        pytest.param('url = "ws://h:99999/x"\nexpect_text = "x"', r"invalid port", id="bad-port"),
        pytest.param(
            'url = "api/events"\nexpect_text = "x"', r"or a path on the target", id="relative"
        ),
        pytest.param(
            'url = "wss://h.example.com/x"\nkind = "sse"\nexpect_text = "x"',
            r"kind 'sse' needs an http\(s\) URL or a path, not wss://",
            id="sse-on-wss",
        ),
        pytest.param(
            'url = "/e"\nkind = "sockjs"\nexpect_text = "x"',
            r"realtime\[0\]\.kind",
            id="unknown-kind",
        ),
        pytest.param(
            'url = "/e"\nsend = ["hello"]\nexpect_text = "x"',
            r"`send` is for WebSockets",
            id="send-on-sse",
        ),
        pytest.param(
            'url = "/e"\nsubprotocols = ["v1"]\nexpect_text = "x"',
            r"`subprotocols` is for WebSockets",
            id="subprotocols-on-sse",
        ),
        pytest.param(
            'url = "/e"\nexpect_json = { "$.a[" = 1 }',
            r"not a valid JSONPath",
            id="bad-jsonpath",
        ),
        pytest.param(
            'url = "/e"\nexpect_text = "x"\ntimeout = "0s"', r"timeout", id="zero-timeout"
        ),
        pytest.param(
            'url = "/e"\nexpect_text = "x"\ntimeout = "10m"', r"timeout", id="timeout-too-long"
        ),
        pytest.param(
            'url = "/e"\nexpect_text = "x"\nafter = { path = "api/tickets" }',
            r"after\.path.*must start with '/'",
            id="after-relative-path",
        ),
        pytest.param(
            'url = "/e"\nexpect_text = "x"\nafter = { path = "/t", methd = "POST" }',
            r"after\.methd",
            id="after-typo",
        ),
        pytest.param('url = "/e"\nexpect_text = "x"\nexpect_txt = "y"', r"expect_txt", id="typo"),
        pytest.param('name = ""\nurl = "/e"\nexpect_text = "x"', r"name", id="empty-name"),
    ],
)
def test_a_bad_entry_is_refused_with_one_line(tmp_path: Path, entry: str, expected: str) -> None:
    """Each mistake names the file and what is wrong; nothing is guessed."""
    text = entry if entry.startswith("name") else f'name = "c"\n{entry}'
    problem = _problem(tmp_path, f"[[realtime]]\n{text}\n")

    assert "prod.toml" in problem
    assert re.search(expected, problem), problem


def test_names_are_unique(tmp_path: Path) -> None:
    """A name is a check id: two entries may not share one."""
    entry = '[[realtime]]\nname = "live"\nurl = "/e"\nexpect_text = "x"\n'

    assert "[[realtime]] names must be unique; repeated: ['live']" in _problem(tmp_path, entry * 2)
