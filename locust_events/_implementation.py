"""Picks the calling loop: the compiled ``_speedups`` where it was built, else ``_native``.

``LOCUST_EVENTS_PURE=1`` in the environment picks the pure-Python loop even where the
extension is built; both behave the same, the compiled one only costs less per fire.
"""

from __future__ import annotations

import os

__all__ = ["COMPILED", "HookCore"]

COMPILED: bool
if os.environ.get("LOCUST_EVENTS_PURE", "") not in ("", "0"):
    from ._native import HookCore

    COMPILED = False
else:
    try:
        # Same interface as _native.HookCore (which mypy types EventHook with); the stub
        # _speedups.pyi states it.
        from ._speedups import HookCore  # type: ignore[assignment]
    except ImportError:  # not built: no compiler, PyPy, or a failed compile at install
        from ._native import HookCore

        COMPILED = False
    else:
        COMPILED = True
