"""releasegate: deployment gates as pytest suites, evidence in, GO / ROLLBACK / HOLD out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("releasegate")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
