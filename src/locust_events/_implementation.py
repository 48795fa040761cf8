"""Picks the calling loop, ``FilteredListener`` and ``measure()``: compiled where built.

The compiled ones are in ``_speedups``; elsewhere the pure-Python twins run. The spawned
listeners' enqueue (``SpawnedListener``), the batch listeners' accept and delivery and the pool
workers' round are pure Python everywhere.

``LOCUST_EVENTS_PURE=1`` in the environment picks the pure-Python loop even where the
extension is built; both behave the same, the compiled one only costs less per fire.
"""

from __future__ import annotations

import os

from ._accumulator import batch_accept, deliver_events
from ._enqueue import SpawnedListener
from ._worker import run_queued_calls

__all__ = [
    "COMPILED",
    "FilteredListener",
    "HookCore",
    "Measurement",
    "SpawnedListener",
    "batch_accept",
    "deliver_events",
    "run_queued_calls",
]

COMPILED: bool
if os.environ.get("LOCUST_EVENTS_PURE", "") not in ("", "0"):
    from ._measure import Measurement
    from ._native import FilteredListener, HookCore

    COMPILED = False
else:
    try:
        # Same interfaces as _native.HookCore, _native.FilteredListener and
        # _measure.Measurement, which mypy types EventHook with; _speedups.pyi states them.
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
