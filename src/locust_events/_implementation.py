"""Picks the calling loop, ``FilteredListener``, ``measure()``, the spawned listeners'
enqueue (``SpawnedListener``) and the pool workers' round (``run_queued_calls``): compiled
where built.

The compiled ones are in ``_speedups``; elsewhere the pure-Python twins run.

``LOCUST_EVENTS_PURE=1`` in the environment picks the pure-Python loop even where the
extension is built; both behave the same, the compiled one only costs less per fire.
"""

from __future__ import annotations

import os

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
    from ._accumulator import batch_accept, deliver_events
    from ._enqueue import SpawnedListener
    from ._measure import Measurement
    from ._native import FilteredListener, HookCore
    from ._worker import run_queued_calls

    COMPILED = False
else:
    try:
        # Same interfaces as _native.HookCore, _measure.Measurement,
        # _enqueue.SpawnedListener, _accumulator.batch_accept and _worker.run_queued_calls,
        # which mypy types EventHook with; the stub _speedups.pyi states them.
        from ._speedups import BatchAccept as batch_accept
        from ._speedups import (  # type: ignore[assignment]
            FilteredListener,
            HookCore,
            Measurement,
            SpawnedListener,
            run_queued_calls,
        )
    except ImportError:  # not built: no compiler, PyPy, or a failed compile at install
        from ._accumulator import batch_accept, deliver_events
        from ._enqueue import SpawnedListener
        from ._measure import Measurement
        from ._native import FilteredListener, HookCore
        from ._worker import run_queued_calls

        COMPILED = False
    else:
        from ._speedups import BatchAccept

        deliver_events = BatchAccept.deliver_events
        COMPILED = True
