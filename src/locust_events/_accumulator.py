"""What a hook calls on each fire of a batch listener, in pure Python: it joins the batch.

``_speedups.BatchAccept`` is its compiled twin (paired by comments); ``_implementation``
picks one as ``batch_accept``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._enqueue import _thread_ident

if TYPE_CHECKING:
    from ._pool import CallQueue, ListenerPool

__all__ = ["batch_accept", "deliver_events"]


def batch_accept(
    batch_listener: Any,
    queue: CallQueue,
    pool: ListenerPool,
    max_size: int,
    hand_over: Callable[[], None],
    start_timer: Callable[[list[dict[str, Any]]], None],
    take_slowly: Callable[[dict[str, Any]], None],
    /,
) -> Callable[..., None]:
    """The function a hook calls for each fire of ``batch_listener``
    (a ``_batching.BatchListener``); the twin of ``_speedups.BatchAccept``.

    While ``queue`` has room (fewer than ``queue.room`` calls queued) and the caller runs in
    its home thread, the fire's keyword arguments (a new dict on every call, so as at fire
    time; the compiled twin makes a ``_speedups.FiredKeywords`` of them instead) join
    ``batch_listener._batch``; ``queue.room`` shrinks by one and
    ``pool._held_events`` grows by one; at ``max_size`` events ``hand_over()`` queues the
    batch, and the first event of a batch calls ``start_timer(batch)``. Anything else goes to
    ``take_slowly(kwargs)``. A closure, not ``__call__``: CPython calls a function with
    keyword arguments for about half of what it takes to call an instance.
    """
    thread_ident = _thread_ident

    def accept(**kwargs: Any) -> None:
        if len(queue.calls) < queue.room and thread_ident() == queue.home:
            batch = batch_listener._batch
            batch.append(kwargs)
            queue.room -= 1  # the pool's room, as hold_events(1) leaves it
            pool._held_events += 1
            if len(batch) >= max_size:
                hand_over()
            elif len(batch) == 1:
                start_timer(batch)
        else:
            take_slowly(kwargs)

    accept.__batch_listener__ = batch_listener  # type: ignore[attr-defined]
    accept.__wrapped__ = batch_listener.listener  # type: ignore[attr-defined]
    return accept


def deliver_events(
    listener: Callable[[list[Mapping[str, Any]]], object], events: Iterable[dict[str, Any]], /
) -> object:
    """Call ``listener`` with a new list of a read-only mapping of each event, in order; the
    twin of ``_speedups.BatchAccept.deliver_events``. The compiled fire makes each event a
    ``_speedups.FiredKeywords``, a read-only mapping that behaves as this mappingproxy of a dict
    does, and its twin hands it over as it is (and lets the garbage collector scan again the
    events the listener kept, that the compiled fire let it skip)."""
    return listener(list(map(MappingProxyType, events)))
