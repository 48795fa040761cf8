"""Picks the calling loop: ``HookCore`` (what runs on every fire), ``FilteredListener`` and
``Measurement``, compiled where the ``_speedups`` extension is built, else their pure-Python
twins in ``_native`` and ``_measure``. Both behave the same; the compiled one costs less.

``LOCUST_EVENTS_PURE`` (see ``_settings``) picks the pure-Python loop even where the
extension is built.
"""

from __future__ import annotations

from ._settings import PURE_LOOP_REQUESTED

__all__ = ["COMPILED", "FilteredListener", "HookCore", "Measurement"]

COMPILED: bool
if PURE_LOOP_REQUESTED:
    from ._measure import Measurement
    from ._native import FilteredListener, HookCore

    COMPILED = False
else:
    try:
        # Same interfaces as _native's and _measure's, which mypy types EventHook with; the
        # stub _speedups.pyi states them.
        from ._speedups import (  # type: ignore[assignment]
            FilteredListener,
            HookCore,
            Measurement,
        )
    except ImportError:  # not built: no compiler, PyPy, or a failed compile at install
        from ._measure import Measurement
        from ._native import FilteredListener, HookCore

        COMPILED = False
    else:
        COMPILED = True
