"""What a queued call is: its tuple, what queued it, what its queue asks of the pool and of
batch listeners, and the errors a pool gives a firer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from ._errors import DispatchError

__all__ = [
    "Call",
    "CallSource",
    "HeldBatch",
    "HookName",
    "MoveHere",
    "NoteDropped",
    "OnFull",
    "PoolClosed",
    "PoolFull",
    "StartWorkers",
]

OnFull = Literal["block", "drop", "raise"]


class PoolFull(DispatchError):
    """A pool with ``on_full="raise"`` had no room for a spawned listener's call."""


class PoolClosed(DispatchError, RuntimeError):
    """A spawned listener was fired after its pool was closed."""


class HookName(Protocol):
    """What messages need of a hook: its name."""

    @property
    def name(self) -> str: ...


class CallSource(Protocol):
    """What queued a call, a :class:`SpawnedListener` or a batch listener: it names the
    listener and its hook in messages, and records the call's failure under the hook's error
    policy (never raising)."""

    @property
    def hook(self) -> HookName: ...

    @property
    def listener(self) -> Callable[..., Any]: ...

    def record_failure(self, call: Call, error: Exception) -> None: ...


#: One queued call: when it was fired (``time.monotonic()``), what queued it, what a worker
#: calls, with which keyword arguments, and how many events it counts as (a batch: its events).
Call = tuple[float, CallSource, Callable[..., Any], Mapping[str, Any], int]


class HeldBatch(Protocol):
    """What a queue asks of a batch listener spawned into its pool."""

    def hand_over(self) -> None:
        """Queue the events of the batch not handed over yet as one call (home thread)."""

    def discard(self) -> int:
        """Forget the batch not handed over yet; returns how many events it held."""


#: What a queue asks of its pool, handed to it as three callables: start the workers in the
#: home thread (the queue is then ``ready``); make the calling thread the home, the former one
#: having ended; count a call of a source dropped for lack of room, for a rate-limited warning.
StartWorkers = Callable[[], None]
MoveHere = Callable[[], None]
NoteDropped = Callable[[CallSource], None]
