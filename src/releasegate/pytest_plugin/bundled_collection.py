"""The bundled gates in a gate run's collection: added when an environment is chosen (see
`bundled_suites_to_collect`), reachable inside a virtualenv, and named `suites/<stage>/...`
wherever releasegate is installed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from releasegate.pytest_plugin._keys import GATE_RUN

_OPENED: pytest.StashKey[set[Path]] = pytest.StashKey()


def bundled_suites_to_collect(config: pytest.Config, suites_named: bool) -> Path | None:
    """The bundled gates' folder to add to the collection, or None: asked for (`--bundled-gates
    yes`, or `auto` with no test path named on the command line), installed, and not this
    checkout's own `suites/` already named (`suites_named`)."""
    from releasegate.ops.bundled_gates import bundled_gates_root

    wanted = config.getoption("releasegate_bundled_gates")
    named = config.args_source is pytest.Config.ArgsSource.ARGS
    if wanted == "no" or (wanted == "auto" and named) or suites_named:
        return None
    root = bundled_gates_root()
    if root is None:
        return None
    # inside a wheel, the folder that holds suites/: the checks are then named suites/<stage>/..
    # as in a checkout; from a checkout elsewhere, its suites/ (not its tests/)
    return root if (root / "__init__.py").is_file() else root / "suites"


def _virtualenv_path(bundled: Path) -> set[Path]:
    """The folders from a virtualenv's root down to the bundled gates (`.venv/lib/.../releasegate`):
    pytest never walks into a virtualenv, and drops an argument inside one it already collects
    (`.`), so the plugin opens this one path for it."""
    parents = list(bundled.parents)
    for index, folder in enumerate(parents):
        if (folder / "pyvenv.cfg").is_file():
            return set(parents[: index + 1])
    return set()


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    run = config.stash.get(GATE_RUN, None)
    if run is None or run.bundled_suites is None:
        return None
    opened = config.stash.get(_OPENED, None)
    if opened is None:
        opened = config.stash[_OPENED] = _virtualenv_path(Path(run.bundled_suites))
    if collection_path in opened:
        return False  # on the way down to the bundled gates
    if collection_path.parent in opened and collection_path != Path(run.bundled_suites):
        return True  # the rest of the virtualenv (site-packages' other packages' tests)
    return None


def _name_bundled_checks(items: list[pytest.Item]) -> None:
    """The bundled checks are named `suites/<stage>/test_x.py::test_y` wherever releasegate is
    installed and however they were collected (added by the plugin, named by `releasegate run`),
    as in a checkout: their ids are stable across machines (policies, reports and comparisons
    between runs name them so)."""
    from releasegate.ops.bundled_gates import bundled_suites

    suites = bundled_suites()
    if suites is None:
        return
    for item in items:
        if suites in item.path.parents:
            path = f"suites/{item.path.relative_to(suites).as_posix()}"
            if item.id.path != path:
                _rename(item, path)


def _rename(item: pytest.Item, path: str) -> None:
    """Give `item` the id `path::name`. pytest (9, as pinned) keeps the id structured, the path
    apart (`Node.id`, a frozen dataclass), and has no public setter: the path is replaced."""
    item._id = dataclasses.replace(item.id, path=path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash.get(GATE_RUN, None) is not None:
        _name_bundled_checks(items)
