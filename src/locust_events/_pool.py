"""``ListenerPool``: long-lived worker greenlets that run spawned listeners from a bounded queue."""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, final

import gevent
import gevent.monkey
from gevent import Greenlet
from gevent.hub import Waiter

from ._call_queue import NEVER, CallQueue, SpawnedListener
from ._calls import CallSource, OnFull, PoolClosed, PoolFull
from ._errors import describe_listener, log_safely
from ._thread_runner import ThreadRunner

__all__ = [
    "ListenerPool",
    "PoolClosed",
    "PoolFull",
    "PoolStats",
    "default_pool",
    "queue_of",
    "spawned_listener",
]

_thread_ident: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_allocate_lock: Final[Callable[[], Any]] = gevent.monkey.get_original("_thread", "allocate_lock")
_monotonic: Final = time.monotonic
#: At most one "dropped" warning per this many seconds and pool.
_DROP_WARNING_INTERVAL: Final = 10.0
#: How often a join from a thread other than the pool's (live) home looks at its figures.
_FOREIGN_JOIN_POLL: Final = 0.005
#: How long ``close`` gives its killed workers to end.
_KILL_TIMEOUT: Final = 1.0


@final
@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters, for a runner to show.

    Counted in events: a spawned call is one, a batch listener's batch counts as its events.
    Every event the pool took ends exactly once, so at every moment
    ``submitted == completed + failed + dropped + pending + running``.
    """

    #: Events the pool took: fires not refused to their caller (closed pool, ``"raise"``).
    submitted: int
    #: Events whose listener returned.
    completed: int
    #: Events whose listener raised, or whose worker was killed while running them.
    failed: int
    #: Events refused for lack of room under ``on_full="drop"``, or discarded by ``close``.
    dropped: int
    #: Events not started yet: queued, in batches not handed over, waiting for room, or on
    #: their way from another thread.
    pending: int
    #: Events running right now.
    running: int
    #: The most events queued or held in batches at once (never above ``maxsize``).
    high_water: int
    #: Seconds the oldest queued call has waited, 0.0 when none waits.
    oldest_pending_age: float

    @property
    def undelivered(self) -> int:
        """Events accepted that have not finished: pending plus running."""
        return self.pending + self.running


# Every pool, so that a forked child can start them afresh.
_all_pools: weakref.WeakSet[ListenerPool] = weakref.WeakSet()


@final
class ListenerPool:
    """Runs spawned listeners in ``size`` long-lived greenlets fed from a bounded queue.

    Firing a hook only enqueues the call, so a slow listener (a webhook, a file or database
    write) never stalls the user that fired; no greenlet is created per event. When the
    queue holds ``maxsize`` calls (batch listeners' events count one by one), ``on_full``
    decides:

    - ``"block"`` (default): the firing greenlet waits cooperatively for room; nothing is
      lost. A firer killed while it waits (Locust stopping its users) leaves its call in
      line: it is delivered when room comes.
    - ``"drop"``: the call is counted as dropped and a rate-limited warning is logged.
    - ``"raise"``: :class:`PoolFull` is raised to the caller.

    Where waiting is impossible, nothing deadlocks: fired from the gevent hub, a call that
    finds the queue full waits in line without its firer ("block"), or is dropped or refused
    as above. The pool's workers live in the thread that made it, its home (or, once that
    thread has ended, the next thread to fire into it or join it); fired from any other
    thread, a call is handed to the home hub thread-safely. At most ``maxsize`` such calls
    are on their way or in line at once: beyond that a firing thread waits for room
    (``"block"``, a real thread wait that ends when a call is queued or the pool closes), or
    drops or raises in that thread. A forked child starts with empty pools: what was queued
    belongs to the parent.

    ``threads=True`` makes it a thread-backed pool, for listeners that block in calls gevent
    cannot make cooperative (``sqlite3``, a database driver without gevent support, C
    code): each worker hands its call to a thread of the pool's own (``size`` of them) and
    waits for it cooperatively, so the users keep running meanwhile. The bound, ``on_full``,
    accounting, error recording, draining and closing are the same; a call whose thread is
    still running when ``close``'s timeout passes is counted as failed and finishes in its
    thread, which ``close`` does not wait for.

    Workers start on first use. A listener's exception is logged with its traceback and
    counted by the hook's error policy and never kills its worker; a worker killed from
    outside is replaced and its call counted as failed. Every call taken ends exactly once,
    as completed, failed or dropped (see :class:`PoolStats`).
    """

    __slots__ = (
        "__weakref__",
        "_drops_unreported",
        "_last_drop_warning",
        "_queue",
        "_warning_lock",
        "_workers",
        "maxsize",
        "name",
        "on_full",
        "size",
        "threads",
    )

    def __init__(
        self,
        size: int = 8,
        maxsize: int = 10_000,
        on_full: OnFull = "block",
        *,
        name: str = "listener pool",
        threads: bool = False,
    ) -> None:
        _require_count(name, "size", size, "the number of worker greenlets, e.g. size=8")
        if not isinstance(threads, bool):
            raise TypeError(
                f"ListenerPool {name!r}: threads must be True or False, not {threads!r}; pass "
                "threads=True to run listeners that block (sqlite3, a driver gevent cannot "
                "patch) in threads, or leave it out to run them in greenlets"
            )
        _require_count(name, "maxsize", maxsize, "how many calls may wait, e.g. maxsize=10_000")
        if on_full not in ("block", "drop", "raise"):
            raise ValueError(
                f"ListenerPool {name!r}: on_full must be 'block', 'drop' or 'raise', "
                f"not {on_full!r}"
            )
        #: How many worker greenlets run spawned listeners.
        self.size: Final = size
        #: How many calls (and batch events) may wait at once.
        self.maxsize: Final = maxsize
        #: What a fire does when the queue is full.
        self.on_full: Final[OnFull] = on_full
        #: How messages name the pool.
        self.name: Final = name
        #: Whether each worker runs its calls in a thread of the pool's own (``size``
        #: threads), so that a listener blocking in real, unpatched calls leaves the hub
        #: running.
        self.threads: Final = threads
        self._queue: Final = CallQueue(
            name,
            maxsize,
            on_full,
            start_workers=self._start_workers,
            move_here=self._move_here,
            note_dropped=self._warn_dropped,
        )
        self._warning_lock = _allocate_lock()
        self._drops_unreported = 0
        self._last_drop_warning = 0.0
        self._workers: list[Greenlet[Any, None]] = []
        self._bind_home()
        _all_pools.add(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._workers)}/{self.size} workers"
        return f"<ListenerPool {self.name!r} {state}, {self.stats.undelivered} unfinished>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: new calls are refused."""
        return self._queue.closed

    @property
    def stats(self) -> PoolStats:
        """The pool's counters now."""
        queue = self._queue
        calls = queue.calls
        try:
            oldest = _monotonic() - calls[0][0] if calls else 0.0
        except IndexError:  # read from another thread as a worker took the last call
            oldest = 0.0
        handover = queue.handover
        with handover.lock:
            thread_dropped = handover.dropped
            on_their_way = handover.on_their_way()
        running = queue.running_events()
        pending = queue.load + len(queue.in_line) + on_their_way
        completed, failed = queue.completed, queue.failed
        dropped = queue.dropped + thread_dropped
        return PoolStats(
            # Every event taken ends exactly once, so what was taken follows from the rest.
            submitted=completed + failed + dropped + pending + running,
            completed=completed,
            failed=failed,
            dropped=dropped,
            pending=pending,
            running=running,
            high_water=max(queue.high_water, queue.load),
            oldest_pending_age=oldest,
        )

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every call taken has ended; False once ``timeout`` seconds have passed.

        Batch listeners' unfinished batches are handed over at once. Returns by its deadline
        in every state, give or take the calls running when it passes (a listener that
        blocks the hub delays everything, this too). Call it from a greenlet, not from the
        hub. Called in another thread once the pool's home thread has ended, it takes the
        pool over and delivers there.
        """
        deadline = NEVER if timeout is None else _monotonic() + timeout
        queue = self._queue
        if _thread_ident() != queue.home:
            with queue.handover.lock:
                if not queue.handover.home_alive():
                    self._move_here()
        if _thread_ident() == queue.home:
            return queue.join(deadline)
        # Another thread, alive, runs the calls: look at its figures now and then.
        while not queue.done():
            remaining = deadline - _monotonic()
            if remaining <= 0:
                return False
            gevent.sleep(min(remaining, _FOREIGN_JOIN_POLL))
        return True

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new calls, wait up to ``timeout`` for the ones taken, then stop the workers.

        Firers still waiting for room when the timeout passes get :class:`PoolClosed`; their
        calls and those still queued are counted as dropped and named in one logged line.
        Nothing stays pending. Returns whether every call was delivered, by the timeout
        whatever the listeners do (a thread-backed pool's thread stuck in a call is left to
        finish on its own).
        """
        queue = self._queue
        queue.closed = True
        queue.ready = False  # every fire goes the slow way, which refuses it
        delivered = self.join(timeout)
        discarded = queue.refuse_all_waiting()
        self.log_unreported_drops()
        workers, self._workers = self._workers, []
        gevent.killall(workers, block=True, timeout=_KILL_TIMEOUT)
        for worker in workers:
            queue.worker_lost(worker, "killed at close")
        runner = queue.run_in_thread
        if isinstance(runner, ThreadRunner):
            runner.stop()
        queue.run_in_thread = None
        if discarded:
            log_safely(
                "error",
                "%s closed with %d call(s) discarded (queued or waiting for room, counted as "
                "dropped); give close() a longer timeout to deliver them",
                self.name,
                discarded,
            )
        return delivered and not self.stats.undelivered

    def log_unreported_drops(self) -> None:
        """Log the drops the rate limit kept quiet so far, if any (shutdown does)."""
        self._warn_dropped(None)

    # What the queue asks of its pool.

    def _start_workers(self) -> None:
        """Start the workers in the home thread: the queue's enqueue may then queue alone."""
        queue = self._queue
        if queue.closed:
            return
        if self.threads and queue.run_in_thread is None:
            queue.run_in_thread = ThreadRunner(self.size, queue.hub)
        while len(self._workers) < self.size:
            self._start_worker()
        queue.ready = True

    def _move_here(self) -> None:
        """Make the calling thread the pool's home: its home thread has ended. What that
        thread left queued moves here; the calls it was running are counted failed."""
        queue = self._queue
        old_runner = queue.run_in_thread
        self._workers = []
        stranded = queue.move_home(_thread_ident(), gevent.get_hub())
        queue.handover.bind_home()
        if isinstance(old_runner, ThreadRunner):
            old_runner.stop()
        for call in stranded:
            log_safely(
                "error",
                "The thread running %s ended while listener %s of hook %r ran; that call is "
                "counted as failed and the pool moved to this thread",
                self.name,
                describe_listener(call[1].listener),
                call[1].hook.name,
            )
        # The batches' timers ran in the old hub: their events are queued here now.
        for batch_listener in list(queue.batch_listeners):
            batch_listener.hand_over()

    # The workers.

    def _bind_home(self) -> None:
        queue = self._queue
        queue.home = _thread_ident()
        queue.hub = gevent.get_hub()
        queue.handover.bind_home()

    def _start_worker(self) -> None:
        worker: Greenlet[Any, None] = Greenlet(self._work)
        worker.link(self._worker_ended)
        self._workers.append(worker)
        worker.start()

    def _work(self) -> None:
        """A worker: run every queued call, then sleep until an enqueue wakes it."""
        queue = self._queue
        calls, idle, hub = queue.calls, queue.idle, queue.hub
        worker = gevent.getcurrent()
        while queue.run_round(worker):
            waiter: Waiter[Any] = Waiter(hub)
            idle.append(waiter)
            try:
                waiter.get()
            finally:
                if waiter in idle:  # woken otherwise: killed, or the hub switched here
                    idle.remove(waiter)
            if calls is not queue.calls:
                return  # the queue started afresh (a fork, a new home): these are not ours

    def _worker_ended(self, worker: Greenlet[Any, None]) -> None:
        """Runs in the hub when a worker ends: account for its call and replace it."""
        if worker not in self._workers:
            return  # stopped by close, or a worker of a former home
        self._workers.remove(worker)
        error = worker.exception
        self._queue.worker_lost(worker, type(error).__name__ if error else "killed")
        if not self.closed:
            self._start_worker()

    def _warn_dropped(self, source: CallSource | None) -> None:
        """Count a dropped call for the warning (``None``: count none), logged at most once
        per interval with the count since."""
        with self._warning_lock:  # threads drop too
            if source is not None:
                self._drops_unreported += 1
            now = _monotonic()
            due = source is None or now - self._last_drop_warning >= _DROP_WARNING_INTERVAL
            if not due or not self._drops_unreported:
                return
            self._last_drop_warning = now
            count, self._drops_unreported = self._drops_unreported, 0
        latest = (
            ""
            if source is None
            else f", the latest of {describe_listener(source.listener)} on hook "
            f"{source.hook.name!r}"
        )
        log_safely(
            "warning",
            "%s is full (%d pending): dropped %d call(s) of spawned listeners%s; raise its "
            "maxsize or size, or use on_full='block'",
            self.name,
            self.maxsize,
            count,
            latest,
        )

    def _start_afresh(self) -> None:
        """In a forked child: the parent's queued calls and workers are the parent's."""
        self._warning_lock = _allocate_lock()
        self._workers = []
        self._queue.start_afresh()
        self._bind_home()


def queue_of(pool: ListenerPool) -> CallQueue:
    """The queue of ``pool``, for the batch listeners spawned into it."""
    return pool._queue


def spawned_listener(
    hook: Any, listener: Callable[..., Any], pool: ListenerPool
) -> Callable[..., None]:
    """What a hook calls on each fire of ``listener`` spawned into ``pool``: the enqueue of its
    :class:`SpawnedListener` (``spawned_listener_of`` finds that again)."""
    return SpawnedListener(hook, listener, pool, pool._queue).enqueue


#: The largest ``size`` and ``maxsize``: counts stay machine integers.
_LARGEST_COUNT: Final = 2**62


def _require_count(pool: str, parameter: str, value: object, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"ListenerPool {pool!r}: {parameter} must be an int, not {value!r} "
            f"({type(value).__name__}); pass {meaning}"
        )
    if value < 1:
        raise ValueError(f"ListenerPool {pool!r}: {parameter} must be at least 1, not {value}")
    if value > _LARGEST_COUNT:
        raise ValueError(
            f"ListenerPool {pool!r}: {parameter} must be at most 2**62, not {value}; pass {meaning}"
        )


def _start_every_pool_afresh() -> None:
    for pool in list(_all_pools):
        pool._start_afresh()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_start_every_pool_afresh)


_default_pool: ListenerPool | None = None


def default_pool() -> ListenerPool:
    """The process-wide pool of spawned listeners of hooks that belong to no ``Events``."""
    global _default_pool
    if _default_pool is None:
        _default_pool = ListenerPool(name="default listener pool")
    return _default_pool
