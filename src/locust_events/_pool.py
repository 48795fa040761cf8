"""``ListenerPool``: long-lived worker greenlets that run spawned listeners from a bounded queue."""

from __future__ import annotations

import math
import os
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, final

import gevent
import gevent.monkey
from gevent import Greenlet
from gevent.hub import Waiter

from ._call_queue import NEVER, CallQueue
from ._calls import NO_TIMEOUT, CallSource, OnFull, PoolClosed, PoolFull
from ._errors import describe_listener, log_safely
from ._pool_warnings import PoolWarnings
from ._spawned import SpawnedListener
from ._thread_runner import ThreadRunner

__all__ = [
    "ListenerPool",
    "PoolClosed",
    "PoolFull",
    "PoolStats",
    "UsersWaiting",
    "UsersWaitingWatcher",
    "default_pool",
    "queue_of",
    "spawned_listener",
]

_thread_ident: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_monotonic: Final = time.monotonic
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
    #: Of the ``failed`` events, those whose call ran past its timeout and was abandoned.
    timed_out: int = 0
    #: Fires that waited for room under ``on_full="block"`` (a simulated user waiting
    #: generates no load meanwhile), those waiting now included.
    waited: int = 0
    #: Seconds those fires waited in all (a wait still going on counts once it ends).
    time_waited: float = 0.0
    #: Of the ``dropped`` events, those discarded because the pool closed (queued, held in
    #: batches or waiting for room when ``close`` gave up); the others found no room.
    discarded: int = 0

    @property
    def undelivered(self) -> int:
        """Events accepted that have not finished: pending plus running."""
        return self.pending + self.running


@final
@dataclass(frozen=True)
class UsersWaiting:
    """What a pool's watchers get when fires (simulated users) wait for room in it: the
    first time, then at most once per warning interval (10 s), as the warning is logged."""

    #: The pool's name.
    pool: str
    #: The listeners whose calls fill the pool (running or queued), most calls first.
    listeners: tuple[str, ...]
    #: The pool's figures then: ``stats.waited`` and ``stats.time_waited`` among them.
    stats: PoolStats


#: A function a pool calls, in a greenlet of its own, when users wait for room in it.
UsersWaitingWatcher = Callable[[UsersWaiting], object]


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
        "_queue",
        "_warnings",
        "_watchers",
        "_workers",
        "maxsize",
        "name",
        "on_full",
        "size",
        "threads",
        "timeout",
    )

    def __init__(
        self,
        size: int = 8,
        maxsize: int = 10_000,
        on_full: OnFull = "block",
        *,
        name: str = "listener pool",
        threads: bool = False,
        timeout: float | None = None,
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
        #: Seconds a spawned or batch listener's call may run before it is abandoned, for
        #: listeners registered without a timeout of their own; ``None``: no limit.
        self.timeout: Final = call_timeout(f"ListenerPool {name!r}", timeout)
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
            note_waiting=self._note_waiting,
            note_timed_out=self._note_timed_out,
        )
        self._warnings: Final = PoolWarnings(name, maxsize)
        self._watchers: list[UsersWaitingWatcher] = []
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
            thread_waited, thread_time_waited = handover.waited, handover.time_waited
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
            timed_out=queue.timed_out,
            discarded=queue.discarded,
            waited=queue.waited + thread_waited,
            time_waited=queue.time_waited + thread_time_waited,
        )

    def on_users_waiting(self, watcher: UsersWaitingWatcher) -> UsersWaitingWatcher:
        """Call ``watcher(report)`` when fires wait for room in this pool: the first time,
        then at most once per warning interval, when the warning is logged.

        Returns ``watcher``, so this works as a decorator. Each call runs in a greenlet of
        its own in the pool's thread, so the watcher may block, or stop the load test (the
        firer that waits is a simulated user; stopping it from its own fire would not do).
        An exception it raises is logged.
        """
        if not callable(watcher):
            raise TypeError(
                f"ListenerPool {self.name!r}: on_users_waiting takes a function of one "
                f"argument (a UsersWaiting report), not {watcher!r}"
            )
        self._watchers.append(watcher)
        return watcher

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

    def log_pressure(self) -> None:
        """Log, if users ever waited for room or calls timed out, how often in all (shutdown
        does, beside the drops)."""
        stats = self.stats
        if stats.waited or stats.timed_out:
            log_safely(
                "warning",
                "%s in all: users waited for room %d time(s), %.3f s in all; %d call(s) timed "
                "out (counted failed)",
                self.name,
                stats.waited,
                stats.time_waited,
                stats.timed_out,
            )

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
        queue.handover.bind_home(queue.hub)
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
        queue.handover.bind_home(queue.hub)

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
        """Count a dropped call for the warning (``None``: log what is unreported)."""
        self._warnings.dropped(source, _monotonic())

    def _note_timed_out(self, source: CallSource) -> None:
        self._warnings.timed_out(source, _monotonic())

    def _note_waiting(self, source: CallSource) -> None:
        """A firer is about to wait for room (any thread): warn and tell the watchers, the
        first time and then at most once per interval. Never raises."""
        try:
            if not self._warnings.waiting_due(_monotonic()):
                return
            report = UsersWaiting(self.name, self._listeners_behind(), self.stats)
            self._warnings.users_waited(
                report.stats.waited, report.stats.time_waited, report.listeners
            )
            if self._watchers:
                self._queue.handover.call_in_home(self._tell_watchers, report)
        except Exception as error:  # the firer must not fail for a warning
            log_safely("error", "%s could not report users waiting", self.name, exc_info=error)

    def _listeners_behind(self) -> tuple[str, ...]:
        """The (at most three) listeners with the most calls running or queued now."""
        queue = self._queue
        try:
            calls = queue.running_calls() + list(queue.calls)
        except RuntimeError:  # changed meanwhile by the home thread: name the running ones
            calls = queue.running_calls()
        counts = Counter(call[1] for call in calls)
        return tuple(
            f"{describe_listener(source.listener)} on hook {source.hook.name!r}"
            for source, _ in counts.most_common(3)
        )

    def _tell_watchers(self, report: UsersWaiting) -> None:
        """In the home hub: run each watcher in a greenlet of its own."""
        for watcher in list(self._watchers):
            gevent.spawn(self._run_watcher, watcher, report)

    def _run_watcher(self, watcher: UsersWaitingWatcher, report: UsersWaiting) -> None:
        try:
            watcher(report)
        except Exception as error:
            log_safely(
                "error",
                "%s: watcher %s of users waiting raised",
                self.name,
                describe_listener(watcher),
                exc_info=error,
            )

    def _start_afresh(self) -> None:
        """In a forked child: the parent's queued calls and workers are the parent's."""
        self._warnings.start_afresh()
        self._workers = []
        self._queue.start_afresh()
        self._bind_home()


def queue_of(pool: ListenerPool) -> CallQueue:
    """The queue of ``pool``, for the batch listeners spawned into it."""
    return pool._queue


def spawned_listener(
    hook: Any, listener: Callable[..., Any], pool: ListenerPool, timeout: float = NO_TIMEOUT
) -> Callable[..., None]:
    """What a hook calls on each fire of ``listener`` spawned into ``pool``: the enqueue of its
    :class:`SpawnedListener` (``spawned_listener_of`` finds that again), whose calls may run
    ``timeout`` seconds (from :func:`listener_timeout`)."""
    return SpawnedListener(hook, listener, pool, pool._queue, timeout).enqueue


def listener_timeout(owner: str, timeout: object, pool: ListenerPool | None) -> float:
    """The call timeout of a listener registered with ``timeout`` in ``pool`` (``None``: not
    spawned): its own, checked, else its pool's, else :data:`NO_TIMEOUT`. ``owner`` starts
    the error: what was given it, to what."""
    limit = call_timeout(owner, timeout)
    if pool is None:
        if limit is not None:
            raise TypeError(
                f"{owner}: timeout applies to spawned listeners only; pass spawn=True or a "
                "ListenerPool too, or leave timeout out"
            )
        return NO_TIMEOUT
    if limit is None:
        limit = pool.timeout
    return NO_TIMEOUT if limit is None else limit


def call_timeout(owner: str, timeout: object) -> float | None:
    """``timeout`` checked as a call timeout of ``owner`` (how the error names what it was
    given to): ``None``, or a finite number of seconds above 0, as a float."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"{owner}: timeout must be a number of seconds or None, not {timeout!r} "
            f"({type(timeout).__name__}); pass e.g. timeout=5.0, or leave it out for no limit"
        )
    if not (0 < timeout < math.inf):
        raise ValueError(
            f"{owner}: timeout must be a finite number of seconds above 0, not {timeout!r}; "
            "pass e.g. timeout=5.0, or leave it out for no limit"
        )
    return float(timeout)


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
