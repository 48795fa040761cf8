"""Registration-time refusal of listeners that a fire would call without ever running them."""

from __future__ import annotations

import functools
import inspect

from ._errors import describe_listener

__all__ = ["refuse_listener_that_never_runs"]


def _never_runs_when_called(func: object) -> str | None:
    """What calling ``func`` makes instead of running it (a coroutine...), or ``None``."""
    for _ in range(10):
        if isinstance(func, functools.partial):
            func = func.func
            continue
        if inspect.iscoroutinefunction(func):
            return "a coroutine"
        if inspect.isasyncgenfunction(func):
            return "an async generator"
        if inspect.isgeneratorfunction(func):
            return "a generator"
        if inspect.isfunction(func) or inspect.ismethod(func) or inspect.isbuiltin(func):
            return None
        # An object whose __call__ is one of these.
        func = getattr(type(func), "__call__", None)  # noqa: B004
        if func is None:
            return None
    return None


def refuse_listener_that_never_runs(hook_name: str, func: object) -> None:
    """Raise ``TypeError`` for an ``async def`` or generator listener (or a partial of one,
    or an object whose ``__call__`` is one): calling it only makes a coroutine or generator
    that nobody runs, so the listener would silently never run.
    """
    try:
        made = _never_runs_when_called(func)
    except Exception:  # a callable too odd to inspect is called as it is
        return
    if made is None:
        return
    raise TypeError(
        f"Cannot add listener {describe_listener(func)} to hook {hook_name!r}: calling it "
        f"makes {made} that nobody would run, so it would never run. Hooks call listeners "
        "in gevent greenlets, not in an asyncio event loop: make it a plain 'def' (gevent "
        "makes blocking I/O cooperative), and add it with spawn=True if it does I/O"
    )
