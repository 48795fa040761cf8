"""Picks the calling loop: ``HookCore`` (what runs on every fire), ``FilteredListener``,
``Measurement`` and ``keywords_to``/``call_with`` (a spawned call's keyword arguments without a
dict), compiled where the ``_speedups`` extension is built, else their pure-Python twins in
``_native`` and ``_measure``. Both behave the same; the compiled one costs less.

The spawned path's modules (``_call_queue``, ``_spawned``, ``_batching``) are each one source
that Cython compiles where it can (``setup.py``); each module adopts its compiled build at its
end with :func:`adopt_compiled_twin`, the way gevent's ``queue.py`` adopts
``gevent._gevent_cqueue``.

``LOCUST_EVENTS_PURE`` (see ``_settings``) picks pure Python for both even where they are
built.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from ._settings import PURE_LOOP_REQUESTED

__all__ = [
    "COMPILED",
    "FilteredListener",
    "HookCore",
    "Measurement",
    "adopt_compiled_twin",
    "call_with",
    "keywords_to",
    "owner_of_forwarder",
]


def adopt_compiled_twin(namespace: dict[str, Any], twin: str) -> bool:
    """Give the module whose ``globals()`` is ``namespace`` every name of ``twin``, the same
    source compiled by Cython, unless ``LOCUST_EVENTS_PURE`` is set or ``twin`` was not built
    (or ``namespace`` is ``twin``'s own: the compiled module runs this line too).

    Only the module's own dunder names stay (``__name__``, ``__file__``, ``__doc__``...): its
    classes and functions are then the compiled ones, and say so in their ``__module__``.
    Returns whether the module now runs compiled.
    """
    if PURE_LOOP_REQUESTED or namespace["__name__"] == twin:
        return False
    try:
        compiled = importlib.import_module(twin)
    except ImportError:  # not built: no Cython or compiler at install, or PyPy
        return False
    namespace.update(
        (name, value) for name, value in vars(compiled).items() if not name.startswith("__")
    )
    return True


COMPILED: bool
if PURE_LOOP_REQUESTED:
    from ._measure import Measurement
    from ._native import FilteredListener, HookCore, call_with, keywords_to

    COMPILED = False
else:
    try:
        # Same interfaces as _native's and _measure's, which mypy types EventHook with; the
        # stub _speedups.pyi states them.
        from ._speedups import (  # type: ignore[assignment]
            FilteredListener,
            HookCore,
            Measurement,
            call_with,
            keywords_to,
        )
    except ImportError:  # not built: no compiler, PyPy, or a failed compile at install
        from ._measure import Measurement
        from ._native import FilteredListener, HookCore, call_with, keywords_to

        COMPILED = False
    else:
        COMPILED = True


#: The type of what ``keywords_to`` makes (a builtin function, or a bound method in pure
#: Python).
_FORWARDER: Final = type(keywords_to(print))


def owner_of_forwarder(entry: object) -> object:
    """The object whose method ``entry`` calls, where ``entry`` is what ``keywords_to`` made
    of a bound method (a spawned or batch listener's entry in its hook), else ``None``."""
    if type(entry) is not _FORWARDER:
        return None
    return getattr(getattr(entry, "__self__", None), "__self__", None)
