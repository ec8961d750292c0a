"""How the reference service is started."""

from __future__ import annotations

from dataclasses import dataclass, field

from releasegate.target.faults import FaultSet

DEFAULT_API_TOKEN = "local-demo-token"  # noqa: S105 - a demo token, documented as such
DEFAULT_DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo login, documented as such
API_TOKEN_VAR = "RELEASEGATE_TARGET_API_TOKEN"  # noqa: S105 - a variable's name, not a token
ADMIN_TOKEN_VAR = "RELEASEGATE_ADMIN_TOKEN"  # noqa: S105 - a variable's name, not a token
FAULTS_VAR = "RELEASEGATE_FAULTS"


@dataclass(frozen=True)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 0
    faults: FaultSet = field(default_factory=FaultSet)
    # one in-memory SQLite database shared by every thread (see database.py)
    database_url: str = "sqlite://"
    version: str = "1.0.0"
    api_token: str = field(default=DEFAULT_API_TOKEN, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    # generous: one load-test client sends everything from one address
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    seed: int | None = None
    demo_user: str = "demo"
    demo_password: str = field(default=DEFAULT_DEMO_PASSWORD, repr=False)
