"""What a queued call is: its tuple, what queued it, what its queue asks of the pool and of
batch listeners, an item waiting for room, and the errors a pool gives a firer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal, Protocol, final

from gevent.hub import Waiter

from ._errors import DispatchError, describe_listener
from ._native import Arguments

__all__ = [
    "NO_TIMEOUT",
    "Arguments",
    "Call",
    "CallSource",
    "HeldBatch",
    "HookName",
    "InLine",
    "MoveHere",
    "NoteDropped",
    "NoteWaiting",
    "OnFull",
    "PoolClosed",
    "PoolFull",
    "StartWorkers",
    "TimedRun",
    "closed_error",
    "full_error",
]

OnFull = Literal["block", "drop", "raise"]


class PoolFull(DispatchError):
    """A pool with ``on_full="raise"`` had no room for a spawned listener's call."""


class PoolClosed(DispatchError, RuntimeError):
    """A spawned listener was fired after its pool was closed."""


def closed_error(pool: str, source: CallSource) -> PoolClosed:
    """What a firer gets from closed pool ``pool``."""
    return PoolClosed(
        f"Cannot run listener {describe_listener(source.listener)} of hook "
        f"{source.hook.name!r}: {pool!r} is closed; fire before closing it, or spawn "
        "into an open pool"
    )


def full_error(pool: str, maxsize: int, source: CallSource) -> PoolFull:
    """What a firer gets from full pool ``pool`` under ``on_full="raise"``."""
    return PoolFull(
        f"Cannot queue listener {describe_listener(source.listener)} of hook "
        f"{source.hook.name!r}: {pool!r} holds {maxsize} pending calls; raise its "
        "maxsize or size, or choose on_full='block' or 'drop'"
    )


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

    @property
    def timeout(self) -> float:
        """Seconds a call may run before it is abandoned; :data:`NO_TIMEOUT` for no limit."""

    @property
    def profile(self) -> Any:
        """The profile its calls are counted in while the Listeners tab or a profiler runs,
        else ``None``."""

    def record_failure(self, call: Call, error: Exception) -> None: ...

    def count_end(self, call: Call, failed: bool) -> None:
        """Count ``call``'s end in :attr:`profile` (never raising); called only when set."""


#: One queued call: when it was fired (``time.monotonic()``), what queued it, what a worker
#: calls, with which keyword arguments, and how many events it counts as (a batch: its events).
#: Compiled, a spawned call is not tracked by the cycle collector (see ``_call_queue``).
Call = tuple[float, CallSource, Callable[..., Any], Arguments, int]


class TimedRun(Protocol):
    """A sampled spawned call, timed: made as its fire starts, told once the call is queued
    (what the enqueue cost the firer), then called with the call's keyword arguments."""

    def queued(self) -> None: ...

    def __call__(self, **kwargs: Any) -> Any: ...


class HeldBatch(Protocol):
    """What a queue asks of a batch listener spawned into its pool."""

    def hand_over(self) -> None:
        """Queue the events of the batch not handed over yet as one call (home thread)."""

    def discard(self) -> int:
        """Forget the batch not handed over yet; returns how many events it held."""


#: What a queue asks of its pool, handed to it as callables: start the workers in the home
#: thread (the queue is then ``ready``); make the calling thread the home, the former one
#: having ended; count a call of a source dropped for lack of room, or abandoned past its
#: timeout, for a rate-limited warning; tell that a firer is about to wait for room (a
#: rate-limited warning and the pool's watchers).
StartWorkers = Callable[[], None]
MoveHere = Callable[[], None]
NoteDropped = Callable[[CallSource], None]
NoteWaiting = Callable[[CallSource], None]

#: A source's :attr:`CallSource.timeout` when its calls may run as long as they take.
NO_TIMEOUT: Final = 0.0


@final
class InLine:
    """An item waiting for room: a call to queue, or a batch event to admit."""

    __slots__ = ("admit", "from_thread", "item", "refused", "source", "wake")

    def __init__(
        self,
        admit: Callable[[Any], None],
        item: Any,
        source: CallSource,
        wake: Waiter[Any] | None,
        from_thread: bool = False,
    ) -> None:
        #: Takes ``item`` once there is room: :meth:`CallQueue.queue_call`, or a batch
        #: listener's ``add_event``.
        self.admit: Final = admit
        self.item: Final = item
        self.source: Final = source
        #: Switched to (in the hub) once the item is admitted or refused; ``None`` when nobody
        #: waits (fired from the hub or another thread). A firer killed meanwhile leaves a
        #: waiter that switches to nobody: its item stays in line and is delivered.
        self.wake: Final = wake
        #: Whether another thread fired it: it counts against that side's bound till admitted.
        self.from_thread: Final = from_thread
        #: Set when the pool closed first: the waiting firer gets ``PoolClosed``.
        self.refused = False
