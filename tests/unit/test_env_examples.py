"""The environment templates for the stacks teams run (environments/examples/): each is a valid
environment (`envs check`), says which keys to fill, takes its secrets from variables, and reads
its application the way that stack serves health and version."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.config import check_all, load_for_review
from releasegate.slo.sampling_plan import review

EXAMPLES = Path(__file__).resolve().parents[2] / "environments" / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.example.toml"))


def test_there_is_a_template_for_each_stack() -> None:
    assert NAMES == [
        "nextjs-supabase.example",
        "rails-sidekiq.example",
        "spring-boot.example",
        "static-site.example",
        "supabase.example",
        "vite-react-vercel.example",
    ]


def test_every_template_passes_envs_check() -> None:
    assert check_all(EXAMPLES) == {name: [] for name in NAMES}


@pytest.mark.parametrize("directory", [EXAMPLES, EXAMPLES.parent])
def test_every_shipped_budget_can_show_its_objectives(directory: Path, tmp_path: Path) -> None:
    """No template or shipped environment sets an objective its synthetic budget cannot show
    on a flawless service (it would HOLD every run)."""
    for name in check_all(directory):
        env = load_for_review(name, directory)
        assert review(env, tmp_path)[1] == [], name


@pytest.mark.parametrize("name", NAMES)
def test_a_template_says_what_to_fill_in(name: str) -> None:
    text = (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8")

    assert text.startswith("# ")
    assert "FILL IN" in text


@pytest.mark.parametrize("name", NAMES)
def test_a_templates_credentials_come_from_variables_it_requires(name: str) -> None:
    """Every ${VAR} a template uses is in its `required_env`, so the pre-deploy gate names a
    missing one; and none is written out in the file."""
    env = load_for_review(name, EXAMPLES)
    text = (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8")
    used = {part.split("}")[0] for part in text.split("${")[1:]}

    assert used <= set(env.target.required_env)


@pytest.mark.parametrize(
    ("name", "health", "version_path", "version_from"),
    [
        ("rails-sidekiq.example", ("/up", "status"), "", ("version_header", "X-App-Version")),
        (
            "spring-boot.example",
            ("/actuator/health", "spring"),
            "/actuator/info",
            ("version_key", "$.build.version"),
        ),
        ("static-site.example", ("/", "status"), "", ("version_meta", "version")),
        ("vite-react-vercel.example", ("/", "status"), "", ("version_meta", "app-version")),
        ("nextjs-supabase.example", ("/api/health", "auto"), "", ("version_meta", "app-version")),
        (
            "supabase.example",
            ("/auth/v1/health", "status"),
            "/auth/v1/health",
            ("version_key", "version"),
        ),
    ],
)
def test_a_template_reads_health_and_version_as_its_stack_serves_them(
    name: str, health: tuple[str, str], version_path: str, version_from: tuple[str, str]
) -> None:
    target = load_for_review(name, EXAMPLES).target
    key, value = version_from

    assert (target.health_path, target.health_format) == health
    assert target.version_path == version_path
    assert getattr(target, key) == value
