"""The package's version, and which calling loop this copy runs and why.

``pyproject.toml`` reads ``__version__`` from here, so the number lives in one place.
"""

from __future__ import annotations

import importlib
import platform
from pathlib import Path

__all__ = ["__version__", "loop_description"]

__version__ = "0.1.0"

#: Written into the package by ``setup.py`` when the C extension failed to compile at install.
BUILD_FAILURE_NOTE = "_build_failed.txt"


def loop_description() -> str:
    """Which loop ``fire`` runs in this process: "compiled", or "pure Python, because ..."."""
    from ._implementation import COMPILED

    if COMPILED:
        return "compiled"
    return f"pure Python, because {_why_pure()}"


def _why_pure() -> str:
    from ._settings import PURE_LOOP_REQUESTED, PURE_VARIABLE

    if PURE_LOOP_REQUESTED:
        return f"{PURE_VARIABLE} is set in the environment"
    note = Path(__file__).with_name(BUILD_FAILURE_NOTE)
    if note.is_file():
        # One line per module that failed.
        reason = "; ".join(line for line in note.read_text().splitlines() if line.strip())
        return f"the C extension failed to compile when this copy was installed: {reason}"
    if platform.python_implementation() != "CPython":
        implementation = platform.python_implementation()
        return f"{implementation} runs the pure-Python loop (no C extension is built for it)"
    try:
        importlib.import_module("locust_events._speedups")
    except ImportError as error:
        return f"the C extension is not installed or cannot be loaded ({error})"
    return "the C extension was not loaded"  # imported fine now: it was not at start-up
