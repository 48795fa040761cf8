"""A pool worker's round in pure Python: run the queued calls one after the other."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from ._pool import BatchOfEvents, ListenerPool

__all__ = ["run_queued_calls"]

_monotonic: Final = time.monotonic


# Twin: run_queued_calls in _speedups.c.
def run_queued_calls(pool: ListenerPool, worker: Any, batch_type: type) -> bool:
    """Run every call queued in ``pool`` in turn, in ``worker`` (the calling greenlet), and
    return True once the queue is empty; False when the pool started afresh while a call
    ran (a fork, a new home thread): the worker must end, its call is not this pool's now.

    Each call is accounted for exactly once, as :class:`~locust_events._pool.ListenerPool`
    promises: the worker notes it in ``pool._current_calls`` while it runs (a worker killed
    meanwhile leaves it there for ``_worker_ended``), then counts it completed, or hands its
    ``Exception`` to ``pool._call_failed``; any other ``BaseException`` (the worker killed)
    propagates. A call whose listener is a ``batch_type`` (a batch of events) counts as its
    events. Between calls it lets joins whose deadline passed return, and once the queue is
    empty it wakes the joins. No greenlet switch between calls unless a listener yields: a
    burst of fires costs one wake-up, not one switch per call.
    """
    queue = pool._queue
    calls = queue.calls
    current_calls = pool._current_calls
    in_line = pool._in_line
    joiners = pool._joiners
    thread_pool = pool._thread_pool
    while True:
        if joiners and pool._join_deadline <= _monotonic():
            pool._let_late_joiners_return()
        if not calls:
            return True
        depth = len(calls)
        if depth > pool._high_water:
            pool._high_water = depth
        call = calls.popleft()
        if in_line:
            pool._refill_soon()
        current_calls[worker] = call
        listener = call[2]
        is_batch = type(listener) is batch_type
        if is_batch:
            pool.batch_taken(cast("BatchOfEvents", listener))
        try:
            if thread_pool is None:
                listener(**call[3])
            else:
                # The worker waits cooperatively; a thread of the pool's runs the call.
                thread_pool.spawn(listener, **call[3]).get()
        except Exception as error:
            if calls is not queue.calls:
                return False
            pool._call_failed(call, error)
        else:
            if calls is not queue.calls:
                return False
            pool._completed += len(cast("BatchOfEvents", listener).events) if is_batch else 1
        del current_calls[worker]
        if joiners and not calls:
            pool._finished()  # perhaps the last: the joins may return
