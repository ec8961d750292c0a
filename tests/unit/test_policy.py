"""Policy lint: contradictions are warned about at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config import load_environment
from releasegate.evidence.policy import explain, lint, lint_errors

BASE = '[target]\nbase_url = "https://x.example"\n'


def env_with(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "prod.toml").write_text(BASE + text)
    return load_environment("prod", tmp_path, {})


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        pytest.param(
            '[slo]\navailability_min = "99.9%"\nerror_ratio_max = "1%"\n',
            "in 3.0 days",
            id="error-budget-burnt-in-days",
        ),
        pytest.param('[slo]\navailability_min = "100%"\n', "no error budget", id="no-budget"),
        pytest.param(
            '[policy]\nblocking_stages = ["smoke"]\nmax_failed = { slo = 2 }\n',
            "max_failed.slo has no effect",
            id="limit-on-dry-run-stage",
        ),
        pytest.param("[policy]\nmax_flaky = 2\n", "without policy.retries", id="flaky-no-retries"),
        pytest.param(
            '[policy]\non_inconclusive = "rollback"\n[rollback]\non_hold = "x"\n',
            "on_hold never runs",
            id="on-hold-unreachable",
        ),
    ],
)
def test_contradictions_are_warned(tmp_path: Path, text: str, warning: str) -> None:
    """Each contradiction gives one warning naming the keys."""
    warnings = lint(env_with(tmp_path, text))

    assert len(warnings) == 1
    assert warning in warnings[0]


def test_a_sound_policy_has_no_warnings(tmp_path: Path) -> None:
    """An error-ratio limit within the budget is fine."""
    text = '[slo]\navailability_min = "99%"\nerror_ratio_max = "0.5%"\n'

    assert lint(env_with(tmp_path, text)) == []


def test_explain_masks_secrets_in_commands(tmp_path: Path) -> None:
    """A secret inside the rollback command is masked when the policy is explained."""
    (tmp_path / "prod.toml").write_text(BASE + '[rollback]\ncommand = "deploy --token ${TOK}"\n')
    env = load_environment("prod", tmp_path, {"TOK": "s3cret-token"})

    text = "\n".join(explain(env))

    assert "s3cret-token" not in text
    assert "deploy --token ********" in text


DATABASE = '[database]\nurl = "postgresql://app@db/app"\n[database.backup]\nglob = "*.dump"\n'
SANITY = 'sanity = [{ name = "users", sql = "SELECT count(*) FROM users", min = 1 }]\n'


@pytest.mark.parametrize(
    ("text", "warned"),
    [
        pytest.param(DATABASE, True, id="restore-without-sanity"),
        pytest.param(DATABASE + SANITY, False, id="with-sanity"),
        pytest.param(DATABASE + "restore = false\n", False, id="no-restore"),
    ],
)
def test_a_restore_without_sanity_queries_is_warned(
    tmp_path: Path, text: str, warned: bool
) -> None:
    """`restore = true` with no sanity query proves only that the dump loads: one warning
    naming the file and the key."""
    warnings = lint(env_with(tmp_path, text))

    expected = [
        "environments/prod.toml: [database.backup] sanity: no sanity query configured: the"
        " restore check proves only that the backup loads, not that its data is right (add a"
        " query returning one value, with min, max or equals; see docs/deploy-gates.md)"
    ]
    assert warnings == (expected if warned else [])


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("[policy]\nblocking_stages = []\n", "lets no check vote", id="no-blocking"),
        pytest.param(
            '[policy]\nadvisory_checks = ["*"]\n', "makes every check advisory", id="all-advisory"
        ),
    ],
)
def test_a_policy_under_which_nothing_votes_is_an_error(
    tmp_path: Path, text: str, error: str
) -> None:
    """A policy that can never say GO is a lint error, not a warning."""
    errors = lint_errors(env_with(tmp_path, text))

    assert len(errors) == 1
    assert error in errors[0]


def test_the_default_policy_has_no_errors(tmp_path: Path) -> None:
    """Every stage blocks by default: nothing to object to."""
    assert lint_errors(env_with(tmp_path, "")) == []
