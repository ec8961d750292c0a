"""`[security]`: the post-deploy gate's passive security audit (docs/security-audit.md)."""

from __future__ import annotations

from releasegate.config.strict_base import StrictModel


class SecurityConfig(StrictModel):
    """`[security]`."""
