"""The package rules ARCHITECTURE.md states, checked: what each package of src/releasegate may
import, that the top level stays small, and that no two modules share a name."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "releasegate"

# The small flat core: plain modules every package may use.
CORE = {
    "errors",
    "outcome",
    "units",
    "stages",
    "net",
    "redact",
    "documents",
    "probe",
    "conditions",
    "titles",
}

# What each package may import besides the core (the arrows of ARCHITECTURE.md's table).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "config": set(),
    "evidence": {"config"},
    "checks": {"config", "evidence"},
    "slo": {"config", "evidence"},
    "browser": {"config", "evidence"},
    "load": {"config", "evidence", "slo"},
    # metrics: the Prometheus provider asks through the SLO gate's client
    "metrics": {"config", "evidence", "slo"},
    # target: the demo starts the bundled service; checks: init reads what an app serves with
    # the judges' own readers (health formats, security headers)
    "ops": {"config", "evidence", "checks", "slo", "target"},
    "report": {"config", "evidence", "browser", "load", "ops"},
    "target": set(),
    "pytest_plugin": {
        "config",
        "evidence",
        "checks",
        "slo",
        "browser",
        "load",
        "metrics",
        "ops",
        "target",
    },
    "cli": {
        "config",
        "evidence",
        "checks",
        "metrics",
        "slo",
        "browser",
        "load",
        "ops",
        "report",
        "target",
    },
}


# Module-level exceptions to the package rules, each with its reason. The load gate judges
# with the SLO statistics (load -> slo), and the SLO gate's load-statistics source reads what
# the load stage wrote: Locust's parsed figures and their bucket percentiles (slo -> load).
EXCEPTIONS: dict[str, set[str]] = {
    "slo/sources/load_statistics.py": {"releasegate.load.latency", "releasegate.load.stats"},
}


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "releasegate":
        return None
    if len(parts) == 1 or parts[1] in CORE or parts[1].startswith("__"):
        return "core"
    return parts[1]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _own_package(path: Path) -> str:
    first = path.relative_to(PACKAGE).parts[0]
    return first if (PACKAGE / first).is_dir() else "core"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_what_its_package_may(path: Path) -> None:
    own = _own_package(path)
    if path.name == "__main__.py":
        return  # `python -m releasegate` is the command's entry point
    allowed = ALLOWED[own] | {own, "core"}
    excepted = EXCEPTIONS.get(str(path.relative_to(PACKAGE)), set())
    wrong = sorted(
        module
        for module in _imports(path)
        if (package := _package_of(module)) is not None
        and package not in allowed
        and not any(module == e or module.startswith(f"{e}.") for e in excepted)
    )
    assert not wrong, f"{path.relative_to(PACKAGE)} ({own}) imports {wrong}"


def test_the_top_level_stays_small() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__"})

    assert set(top) <= CORE, f"top-level modules outside the core: {set(top) - CORE}"


def test_no_two_modules_share_a_name() -> None:
    names = Counter(
        p.stem
        for p in _modules()
        if p.stem not in {"__init__", "__main__"} and "profiles" not in p.parts
    )

    assert not [name for name, count in names.items() if count > 1]


def test_every_package_has_a_rule() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}

    assert packages <= set(ALLOWED), f"packages without a rule: {packages - set(ALLOWED)}"
