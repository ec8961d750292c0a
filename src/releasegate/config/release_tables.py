"""`[release]`: release hygiene the pre-deploy gate checks (docs/release-hygiene.md)."""

from __future__ import annotations

from releasegate.config.strict_base import StrictModel


class ReleaseConfig(StrictModel):
    """`[release]`."""

    changelog: str | None = None
