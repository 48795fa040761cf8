"""The enqueue of a spawned listener in pure Python: what a fire into it runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, final

import gevent.monkey

from ._errors import describe_listener

if TYPE_CHECKING:
    from ._pool import FailureRecorder, ListenerPool

__all__ = ["SpawnedListener"]

# The real thread identity even under monkey-patching, where threading names greenlets.
_thread_ident: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_monotonic: Final = time.monotonic


# Twin: SpawnedListener in _speedups.c (struct SpawnedListener, spawned_* functions).
@final
class SpawnedListener:
    """Stands in a hook's listeners for a spawned one: calling it queues the real call.

    Calling it is the enqueue, the hot half of the spawned path, kept to a few steps. Its
    contract, which the compiled twin keeps:

    - each call keeps its keyword arguments in a new mapping, with the names (in their
      order) and values as they were at fire time (a shallow copy: mutable values are
      shared). Here it is the ``**kwargs`` dict; the compiled twin keeps the fire's values
      and names tuple as they came, in a read-only ``FiredKeywords``, which its workers
      pass on to the listener as the fire passed them, without a dict;
    - when the pool's :class:`~locust_events._pool.CallQueue` has room (fewer than ``room``
      calls queued) and the caller runs in its home thread, append
      ``(time.monotonic(), hook, listener, kwargs)`` to ``calls`` and, if a worker is idle,
      call :meth:`~locust_events._pool.CallQueue.wake_one`;
    - otherwise hand the call to ``pool.submit(hook, listener, kwargs)``, which decides
      everything else (closed, another thread, full: block, drop or raise).

    Counting is left to the pool: what was submitted follows from the calls' ends, and the
    queue's high water is read before each call leaves it. ``_implementation`` picks this
    class or its compiled twin; ``locust_events._pool.SpawnedListener`` is the one picked.
    """

    __slots__ = ("_queue", "hook", "listener", "pool")

    # Twin: spawned_new.
    def __init__(
        self, hook: FailureRecorder, listener: Callable[..., Any], pool: ListenerPool
    ) -> None:
        #: The function the pool calls.
        self.listener: Final = listener
        #: The pool that runs it.
        self.pool: Final = pool
        #: The hook it is registered on, whose error policy records its failures.
        self.hook: Final = hook
        self._queue: Final = pool._queue

    # Twin: spawned_vectorcall.
    def __call__(self, **kwargs: Any) -> None:
        queue = self._queue
        calls = queue.calls
        if len(calls) < queue.room and _thread_ident() == queue.home:
            calls.append((_monotonic(), self.hook, self.listener, kwargs))
            if queue.idle:
                queue.wake_one()
        else:
            self.pool.submit(self.hook, self.listener, kwargs)

    # Twin: spawned_repr.
    def __repr__(self) -> str:
        return f"<spawned {describe_listener(self.listener)} in {self.pool!r}>"
