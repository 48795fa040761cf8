"""The package's version, and which calling loop this copy runs and why.

``pyproject.toml`` reads ``__version__`` from here, so the number lives in one place.
"""

from __future__ import annotations

import importlib
import platform
from pathlib import Path

__all__ = ["__version__", "loop_description", "warn_once_if_not_compiled"]

__version__ = "0.1.0"

#: Written into the package by ``setup.py`` when the C extension failed to compile at install.
BUILD_FAILURE_NOTE = "_build_failed.txt"


def loop_description() -> str:
    """Which loop ``fire`` runs in this process: "compiled", or "pure Python, because ..."."""
    from ._implementation import COMPILED

    if COMPILED:
        return "compiled"
    return f"pure Python, because {_why_pure()}"


#: Whether this process said already that the compiled loop is missing.
_warned_not_compiled = False


def warn_once_if_not_compiled() -> bool:
    """Log, once per process, that the compiled loop is missing and the command that
    rebuilds it, unless pure Python was asked for (``LOCUST_EVENTS_PURE``) or the
    interpreter is not CPython (nothing is compiled for it). Whether it logged now.

    A failed compile at install only shows in pip's verbose output: the first Locust run
    says so instead.
    """
    global _warned_not_compiled
    from ._implementation import COMPILED
    from ._settings import PURE_LOOP_REQUESTED

    if (
        _warned_not_compiled
        or COMPILED
        or PURE_LOOP_REQUESTED
        or platform.python_implementation() != "CPython"
    ):
        return False
    _warned_not_compiled = True
    from ._errors import log_safely
    from ._install import rebuild_command

    log_safely(
        "warning",
        "locust_events runs its pure-Python calling loop (it behaves the same, only slower), "
        "because %s. Once a C compiler and the Python headers are installed, rebuild it: %s",
        _why_pure(),
        rebuild_command(),
    )
    return True


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
