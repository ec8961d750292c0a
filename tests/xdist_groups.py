"""`--dist loadgroup` that works on pytest 9.2 (a plugin of the project's own tests).

pytest-xdist 3.8 groups tests by renaming `item._nodeid` to `<nodeid>@<group>` on the workers;
pytest 9.2 derives `nodeid` from `item._id`, so the rename is lost and every test is scheduled
on its own: a module fixture meant to be built once is built on every worker. Here the workers
write `{nodeid: group}` (from the `xdist_group` marks, once collected) to a file the controller
named, and the controller's scheduler reads it to form the groups. Without xdist, or with another
`--dist`, nothing changes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadGroupScheduling

GROUPS_FILE_KEY = "releasegate_xdist_groups_file"
_groups_file = pytest.StashKey[Path]()


def _loadgroup(config: pytest.Config) -> bool:
    return bool(config.getoption("dist", default="no") == "loadgroup")


class MarkGroupScheduling(LoadGroupScheduling):
    """LoadGroupScheduling whose groups come from the workers' file, not from the node ids."""

    def __init__(self, config: pytest.Config, log: Producer | None, groups_file: Path) -> None:
        super().__init__(config, log)
        self._groups_file = groups_file
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        # first called when every worker has collected (so has written the file)
        if self._groups is None:
            try:
                self._groups = json.loads(self._groups_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._groups = {}
        group = self._groups.get(nodeid)
        return f"group:{group}" if group else nodeid


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and _loadgroup(config):
        config.stash[_groups_file] = Path(tempfile.mkdtemp(prefix="xdist-groups-")) / "g.json"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _groups_file in config.stash:
        shutil.rmtree(config.stash[_groups_file].parent, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    config = node.config
    if _groups_file in config.stash:
        node.workerinput[GROUPS_FILE_KEY] = str(config.stash[_groups_file])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> Any:
    if _groups_file not in config.stash:
        return None
    return MarkGroupScheduling(config, log, config.stash[_groups_file])


@pytest.hookimpl(trylast=True)  # after every hook that adds or reorders marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    path = workerinput.get(GROUPS_FILE_KEY)
    if path is None:
        return
    groups = {}
    for item in items:
        marks = item.iter_markers("xdist_group")
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}
        )
        if names:
            groups[item.nodeid] = "_".join(names)
    # every worker writes the same; a rename is atomic, so the controller never reads half a file
    partial = f"{path}.{workerinput.get('workerid', os.getpid())}"
    Path(partial).write_text(json.dumps(groups), encoding="utf-8")
    Path(partial).replace(path)
