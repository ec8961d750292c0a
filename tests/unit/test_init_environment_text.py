"""The environment file `releasegate init` writes loads as it stands, whatever was found: a
site with nothing but a home page, and one with every finding."""

from __future__ import annotations

import tomllib

import pytest

from releasegate.checks.api_contract import mount_on
from releasegate.config import EnvironmentModel
from releasegate.ops.init.app_discovery import Findings, PageFound
from releasegate.ops.init.environment_text import environment_text


def _model(found: Findings) -> EnvironmentModel:
    return EnvironmentModel.model_validate(tomllib.loads(environment_text(found, "site")))


def test_a_bare_site_gives_a_file_without_health_or_version_checks() -> None:
    found = Findings("https://example.com", pages=[PageFound("/", 200, "Hello")])
    found.missing = ["a health endpoint", "a version"]
    found.headers_missing = {"csp": "no Content-Security-Policy"}

    model = _model(found)

    assert model.target.health_path == ""
    assert model.target.version_path == ""
    assert model.target.read_only is True
    assert [(p.path, p.expect_text) for p in model.pages] == [("/", "Hello")]
    assert model.headers.skip == ["csp"]
    assert model.openapi is None
    assert model.slo.synthetic.endpoints == ["/"]
    assert "# not found: a health endpoint" in environment_text(found, "site")


def test_every_finding_lands_in_its_key() -> None:
    found = Findings(
        "https://api.example.com/v1",
        pages=[PageFound("/", 302, None), PageFound("/login", 200, 'Sign "in"')],
        health_path="/__heartbeat__",
        health_format="status",
        version_path="/__version__",
        version_key="$.build.version",
        openapi_path="/__api__",
        contract_broken={"/permissions": "Response violates schema"},
        endpoints=["/buckets"],
        cache_paths=["/app.js"],
        latencies_ms=[400.0],
    )

    model = _model(found)

    assert (model.target.health_path, model.target.health_format) == ("/__heartbeat__", "status")
    assert model.target.version_key == "$.build.version"
    assert [(p.path, p.expect_status) for p in model.pages] == [("/", 302), ("/login", 200)]
    assert model.pages[1].expect_text == 'Sign "in"'
    assert model.openapi is not None
    assert model.openapi.exclude_paths == ["/permissions"]
    assert [e.path for e in model.endpoints] == ["/buckets"]
    assert model.cache.paths == ["/app.js"]
    # three times the slowest answer seen, rounded up: 1200 ms
    assert model.slo.latency_p95_ms == 1200
    assert model.slo.synthetic.requests >= 934  # passes 1 % with two failed answers


@pytest.mark.parametrize(
    ("base_url", "mount", "expected"),
    [
        ("https://h.example/v1", "/v1", ""),
        ("https://h.example/v1", "/v1/admin", "/admin"),
        ("https://h.example", "/v1", "/v1"),
        ("https://h.example/app", "/v1", "/v1"),
    ],
)
def test_a_documents_base_path_is_not_mounted_twice(
    base_url: str, mount: str, expected: str
) -> None:
    assert mount_on(base_url, mount) == expected
