from pathlib import Path

import pytest

from releasegate.checks.tls import host_port_from_url, parse_host
from releasegate.config import DatabaseConfig, Environment
from releasegate.errors import ConfigError
from releasegate.pytest_plugin import current_run, mark_folder


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "pre_deploy")
    _deselect_unconfigured(config, items)


# exists only where `[release] changelog` is set: no skipped check in every other report
_CHANGELOG_CHECK = "test_changelog_has_an_entry_for_the_release"


def _deselect_unconfigured(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = current_run(config)
    if run is None or run.env.model.release.changelog:
        return
    folder = Path(__file__).parent.resolve()
    dropped = [
        item
        for item in items
        if getattr(item, "originalname", item.name) == _CHANGELOG_CHECK
        and item.path.resolve().is_relative_to(folder)
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def tls_hosts(env: Environment, base_url: str | None) -> list[tuple[str, int]]:
    """Every certificate to check: the target's when it is https, and `[tls] hosts`."""
    hosts: list[tuple[str, int]] = []
    if base_url and base_url.startswith("https://"):
        hosts.append(host_port_from_url(base_url))
    for index, entry in enumerate(env.model.tls.hosts):
        try:
            hosts.append(parse_host(entry))
        except ValueError as exc:
            raise ConfigError([f"{env.path}: tls.hosts[{index}]: {exc}"]) from None
    return list(dict.fromkeys(hosts))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One pair of TLS checks per host, named after it."""
    run = current_run(metafunc.config)
    if run is None:
        return
    if "tls_host" in metafunc.fixturenames:
        hosts = tls_hosts(run.env, run.base_url)
        metafunc.parametrize(
            "tls_host",
            [pytest.param(h, id=run.redactor.redact(f"{h[0]}:{h[1]}")) for h in hosts]
            or [pytest.param(None, id="no-https-host")],
        )


@pytest.fixture(scope="session")
def database(env: Environment) -> DatabaseConfig:
    """`[database]`; checks that need it are skipped where the environment has none."""
    if env.model.database is None:
        pytest.skip(f"no [database] for env={env.name}")
    return env.model.database
