"""Listeners that say which Locust process they run in: the master, the workers, or both.

``place(hook, on="master")`` adds the listener at once (so its signature is checked where it
is written) and, once Locust's runner exists (``init``, before its listeners), takes it off
again in the processes it does not belong to: a worker keeps ``on="workers"`` listeners, a
master ``on="master"`` ones, a local run (no workers: it does both jobs) every one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from locust.runners import MasterRunner, WorkerRunner

from ._hooks import EventHook
from ._pool import ListenerPool

__all__ = ["PLACES", "place", "settle"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Where a listener can run.
PLACES: Final = ("master", "workers", "both")

# Hooks Locust fires before the runner exists: a place cannot be settled for them in time.
_BEFORE_THE_RUNNER: Final = frozenset({"init_command_line_parser"})

# Listeners placed and not yet settled: (hook, listener, place).
_pending: list[tuple[EventHook[Any], Callable[..., Any], str]] = []


def place(
    hook: EventHook[Any], on: str, *, spawn: bool | ListenerPool = False
) -> Callable[[_F], _F]:
    """A decorator adding its function to ``hook`` (``spawn`` as in ``add_listener``), to run
    only in the processes ``on`` names: ``"master"``, ``"workers"`` or ``"both"``.

    :raises ValueError: ``on`` is not one of :data:`PLACES`.
    :raises TypeError: ``hook`` fires before Locust's runner exists (so the place could not
        be settled in time), or ``add_listener`` refuses the function.
    """
    if on not in PLACES:
        raise ValueError(
            f"Cannot place a listener of hook {hook.name!r} on {on!r}: on must be one of "
            f"{', '.join(repr(p) for p in PLACES)}"
        )
    if hook.name in _BEFORE_THE_RUNNER:
        raise TypeError(
            f"Cannot place a listener of hook {hook.name!r}: Locust fires it before its runner "
            "exists, in every process; add it with add_listener and let it run everywhere"
        )

    def decorator(func: _F) -> _F:
        hook.add_listener(func, spawn=spawn)
        if on != "both":
            _pending.append((hook, func, on))
        return func

    return decorator


def role_of(runner: object) -> str:
    """``"master"``, ``"workers"`` or ``"local"`` (both jobs in one process)."""
    if isinstance(runner, MasterRunner):
        return "master"
    if isinstance(runner, WorkerRunner):
        return "workers"
    return "local"


def settle(environment: Any) -> None:
    """Take every placed listener off where it does not belong, now the runner exists."""
    runner = getattr(environment, "runner", None)
    if runner is None:
        return
    role = role_of(runner)
    settled = list(_pending)
    _pending.clear()
    if role == "local":
        return
    for hook, func, on in settled:
        if on != role:
            hook.remove_listener(func)
