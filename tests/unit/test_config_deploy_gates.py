"""The pre-deploy and post-deploy tables: defaults, bad combinations, and what joins the
redaction set."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config import Environment, load_environment
from releasegate.errors import ConfigError

GOOD = """
[target]
base_url = "https://staging.example.com"
"""


def load(tmp_path: Path, extra: str, environ: dict[str, str] | None = None) -> Environment:
    (tmp_path / "environments").mkdir(exist_ok=True)
    (tmp_path / "environments" / "staging.toml").write_text(GOOD + extra, encoding="utf-8")
    return load_environment("staging", tmp_path / "environments", environ or {})


def test_defaults_follow_the_seed_checklists(tmp_path: Path) -> None:
    env = load(tmp_path, "")
    model = env.model

    assert model.database is None
    assert model.tls.min_days == 14
    assert model.secret_scan.root == "."
    assert model.headers.hsts_min_age == 180 * 86400
    assert model.post_deploy.error_ratio_max == 0.01
    assert (model.watch.max_failed, model.watch.max_gap, model.watch.rate) == (0, 2.0, 10.0)
    assert model.pre_deploy.require_healthy is True


def test_relative_paths_are_taken_from_the_repository(tmp_path: Path) -> None:
    env = load(tmp_path, "")

    assert env.repository == tmp_path.resolve()
    assert env.repository_path("migrations") == tmp_path.resolve() / "migrations"
    assert env.repository_path("/abs/x") == Path("/abs/x")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[database]\nurl = "mysql://x@h/db"\n',
            "url must be a postgresql:// URL",
        ),
        (
            '[database]\nurl = "postgresql://h/db"\n[database.migrations]\nreversible = true\n',
            "set exactly one of alembic or version_query",
        ),
        (
            '[database]\nurl = "postgresql://h/db"\n[database.migrations]\n'
            'version_query = "SELECT v FROM schema_info"\n',
            "version_query needs expected_version",
        ),
        (
            '[database]\nurl = "postgresql://h/db"\n[database.migrations]\n'
            'version_query = "SELECT 1"\nexpected_version = "1"\nreversible = true\n',
            "reversible needs alembic",
        ),
        (
            '[database]\nurl = "postgresql://h/db"\n[database.backup]\nmax_age = "1h"\n',
            "set exactly one of glob or command",
        ),
        (
            '[database]\nurl = "postgresql://h/db"\n[database.backup]\ncommand = "date"\n',
            "restore needs glob",
        ),
        ('[headers]\nskip = ["cookies"]\n', "headers.skip"),
        ('[cache]\nexpect = "sometimes"\n', "cache.expect"),
        ('[cache]\npattern = "max-age=("\n', "not a valid regular expression"),
        ("[watch]\nrate = 500\n", "watch.rate"),
        ("[post_deploy]\nrequests = 0\n", "post_deploy.requests"),
        ('[post_deploy]\ninstances = ["ftp://x"]\n', "post_deploy.instances"),
    ],
)
def test_bad_tables_are_one_line_errors(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, extra)

    assert message in str(caught.value)
    assert "staging.toml" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_database_password_and_required_variables_are_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password written into the URL, and the values of required_env, are never shown."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk-live-abcdef123456")
    env = load(
        tmp_path,
        'required_env = ["STRIPE_SECRET_KEY"]\n'  # still inside [target]
        '[database]\nurl = "postgresql://app:pg-word-8812@db.internal/app"\n',
    )
    redact = env.redactor.redact

    assert "pg-word-8812" not in redact("postgresql://app:pg-word-8812@db.internal/app")
    assert "sk-live-abcdef123456" not in redact("key sk-live-abcdef123456 seen")
