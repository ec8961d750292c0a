"""Where the bundled gates are: the `suites/` releasegate ships (and its own development copy).

An installed wheel carries them inside the package (`releasegate/gates/suites/<stage>/`, copied
there when the wheel is built); an editable install of a checkout has them at the checkout's top
level (`suites/`, where they are developed). Either way the plugin collects them when an
environment is chosen, so `pytest -m smoke --env=NAME` works in any repository.
"""

from __future__ import annotations

from pathlib import Path

import releasegate

# the folder that holds `suites/` inside an installed wheel
PACKAGED = "gates"


def bundled_gates_root() -> Path | None:
    """The folder holding the bundled `suites/`, or None when this installation has none."""
    package = Path(releasegate.__file__).resolve().parent
    packaged = package / PACKAGED
    if (packaged / "suites").is_dir():
        return packaged
    checkout = package.parent.parent  # src/releasegate -> the checkout
    if (checkout / "suites").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    return None


def bundled_suites() -> Path | None:
    """The bundled `suites/` folder itself, or None."""
    root = bundled_gates_root()
    return None if root is None else root / "suites"
