"""Our own JSON documents on disk (samples, baselines, timelines): read one, or say why not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_document(path: Path, schema: str, error: type[Exception]) -> dict[str, Any]:
    """The JSON object in `path` whose "schema" is `schema`, without that key; anything else
    (missing, unreadable, another document) raises `error` with a one-line reason."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: unreadable: {exc}") from None
    if not isinstance(raw, dict) or raw.get("schema") != schema:
        raise error(f"{path}: not a {schema} document")
    raw.pop("schema")
    return raw
