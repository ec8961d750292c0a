"""How the reference service is started: one frozen value, built by the command or by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from releasegate.target.faults import FaultSet

# Demo credentials, documented as such in docs/reference-service.md; real ones come from the
# environment variables below.
DEFAULT_API_TOKEN = "local-demo-token"  # noqa: S105 - the documented demo token
DEFAULT_DEMO_PASSWORD = "demo-password"  # noqa: S105 - the documented demo login
API_TOKEN_VAR = "RELEASEGATE_TARGET_API_TOKEN"  # noqa: S105 - a variable's name, not a token
ADMIN_TOKEN_VAR = "RELEASEGATE_ADMIN_TOKEN"  # noqa: S105 - a variable's name, not a token
# the demo user's password (environments/local.toml signs in with the same variable)
DEMO_PASSWORD_VAR = "RELEASEGATE_DEMO_PASSWORD"  # noqa: S105 - a variable's name  # pragma: allowlist secret
FAULTS_VAR = "RELEASEGATE_FAULTS"
# The URL may hold a password: the launcher passes it here rather than on the command line.
DATABASE_URL_VAR = "RELEASEGATE_TARGET_DATABASE_URL"
# Set by ReferenceServiceProcess: the service stops if that process goes away without stopping
# it (killed with SIGKILL, say), so no orphan keeps a port and a database busy.
PARENT_PID_VAR = "RELEASEGATE_TARGET_PARENT_PID"


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """Everything the service needs to start. Secrets are left out of `repr`."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: the system picks a free port, announced on start
    faults: FaultSet = field(default_factory=FaultSet)
    # One in-memory SQLite database shared by every thread (see database.py).
    database_url: str = field(default="sqlite://", repr=False)
    version: str = "1.0.0"
    api_token: str = field(default=DEFAULT_API_TOKEN, repr=False)
    admin_token: str | None = field(default=None, repr=False)  # None: /_admin answers 403
    # Generous: a load test sends everything from one address. A rate of 0 turns it off.
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    seed: int | None = None  # seeds the random draws of faults, for repeatable runs
    demo_user: str = "demo"
    demo_password: str = field(default=DEFAULT_DEMO_PASSWORD, repr=False)
    # where the service appends its log lines (service_log.py); None: no log file
    log_file: Path | None = None
