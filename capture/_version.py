"""The package's version, on the ground floor so that `--version` needs nothing above it."""

__all__ = ["__version__"]

__version__ = "0.1.0"
