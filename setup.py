"""The build's one extra step: the wheel carries the bundled gates.

The gate suites are developed at this checkout's top level (`suites/`); the wheel ships a copy
inside the package (`releasegate/gates/suites/`), each folder a package, so that the plugin can
collect them in any repository (`pytest -m smoke --env=NAME`). Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithBundledGates(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads suites/ where it is
        gates = Path(self.build_lib) / "releasegate" / "gates"
        target = gates / "suites"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(
            HERE / "suites", target, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]")
        )
        # packages, so their modules import as releasegate.gates.suites.<stage>.test_x and never
        # clash with a repository's own test_*.py of the same name
        for folder in [gates, *(p for p in gates.rglob("*") if p.is_dir())]:
            (folder / "__init__.py").touch()


setup(cmdclass={"build_py": BuildWithBundledGates})
