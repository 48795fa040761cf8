"""``ListenerPool``: long-lived worker greenlets that run spawned listeners from a bounded queue."""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, Protocol, final

import gevent
import gevent.event
import gevent.monkey
import gevent.threadpool
from gevent import Greenlet
from gevent.hub import Waiter

from ._errors import DispatchError, describe_listener, log_safely
from ._implementation import SpawnedListener, deliver_events, run_queued_calls

__all__ = [
    "BatchOfEvents",
    "CallQueue",
    "ListenerPool",
    "PoolClosed",
    "PoolFull",
    "PoolStats",
    "SpawnedListener",
    "default_pool",
]

OnFull = Literal["block", "drop", "raise"]

# The real thread primitives even under monkey-patching, where threading names greenlets.
_thread_ident: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_allocate_lock: Final[Callable[[], Any]] = gevent.monkey.get_original("_thread", "allocate_lock")
_thread_local: Final[type[Any]] = gevent.monkey.get_original("_thread", "_local")
_monotonic: Final = time.monotonic
#: A deadline that never comes.
_NEVER: Final = float("inf")
#: At most one "dropped" warning per this many seconds and pool.
_DROP_WARNING_INTERVAL: Final = 10.0
#: How often a join re-checks calls another thread handed over but the hub has not queued.
_HANDOVER_POLL: Final = 0.001


class PoolFull(DispatchError):
    """A pool with ``on_full="raise"`` had no room for a spawned listener's call."""


class PoolClosed(DispatchError, RuntimeError):
    """A spawned listener was fired after its pool was closed."""


class FailureRecorder(Protocol):
    """What a pool needs of a hook: a name for messages and the error policy's log-and-count."""

    name: str

    def record_failure(self, listener: Callable[..., Any], error: Exception) -> None: ...


@final
@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters, for a runner to show.

    Every call the pool took ends exactly once, so at every moment
    ``submitted == completed + failed + dropped + pending + running``.
    """

    #: Calls the pool took: fires not refused to their caller (closed pool, ``"raise"``).
    submitted: int
    #: Calls whose listener returned.
    completed: int
    #: Calls whose listener raised, or whose worker was killed while running them.
    failed: int
    #: Calls refused for lack of room under ``on_full="drop"``, or discarded by ``close``.
    dropped: int
    #: Calls not started yet: queued, waiting for room, or on their way from another thread.
    pending: int
    #: Calls running right now.
    running: int
    #: The most calls the queue ever held at once (never above ``maxsize``).
    high_water: int
    #: Seconds the oldest queued call has waited, 0.0 when none waits.
    oldest_pending_age: float

    @property
    def undelivered(self) -> int:
        """Calls accepted that have not finished: pending plus running."""
        return self.pending + self.running


_Call = tuple[float, FailureRecorder, Callable[..., Any], Mapping[str, Any]]
#: The keyword arguments of a batch's call: none, the batch is in its listener.
NO_ARGUMENTS: Final[Mapping[str, Any]] = MappingProxyType({})


@final
class BatchOfEvents:
    """The listener of a batch listener's call (see ``_batching``): ``listener(batch)`` for
    every event of ``events``, each as a read-only mapping.

    The pool counts such a call as its events, one by one: each is pending (and counts
    against the bound) until a worker takes the call, then running, then ends completed,
    failed or dropped with it.
    """

    __slots__ = ("events", "listener")

    def __init__(self, listener: Callable[..., Any], events: list[dict[str, Any]]) -> None:
        #: The batch listener's function.
        self.listener: Final = listener
        #: The fires' keyword arguments, in fire order.
        self.events: Final = events

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.listener

    def __call__(self) -> None:
        deliver_events(self.listener, self.events)

    def __repr__(self) -> str:
        return f"<batch of {len(self.events)} events for {describe_listener(self.listener)}>"


def _events_of(listener: Callable[..., Any]) -> int:
    """How many events a call of ``listener`` counts as: a batch's call its events, else 1."""
    return len(listener.events) if type(listener) is BatchOfEvents else 1


def _batch_extras(calls: Iterable[_Call]) -> int:
    """The events of ``calls`` beyond one per call (a batch's call counts as its events)."""
    return sum(_events_of(call[2]) - 1 for call in calls)


@final
class CallQueue:
    """The queue a pool's workers take calls from, and what the enqueue needs to know of it.

    Kept apart from :class:`ListenerPool` so that the hot enqueue
    (calling a :class:`SpawnedListener`) reads a few plain fields and the pool's slow paths
    change them; both twins of the enqueue read the same fields. The object lives as
    long as its pool; a fork or a move to another thread resets its fields in place.
    """

    __slots__ = ("calls", "home", "hub", "idle", "room")

    def __init__(self) -> None:
        #: The calls waiting for a worker, oldest first: ``(fired_at, hook, listener, kwargs)``.
        self.calls: deque[_Call] = deque()
        #: How many calls the enqueue may leave queued: ``maxsize`` while the pool is open and
        #: its workers run, else 0, which sends every fire through ``ListenerPool.submit``.
        self.room = 0
        #: The thread whose greenlets run the calls (``_thread.get_ident()``), if any yet.
        self.home: int | None = None
        #: The home thread's hub, which wakes idle workers.
        self.hub: Any = None
        #: One waiter per worker asleep on an empty queue.
        self.idle: list[Waiter[Any]] = []

    def wake_one(self) -> None:
        """Wake one idle worker (it takes every call queued by then). Call only when
        :attr:`idle` is not empty, from the home thread."""
        self.hub.loop.run_callback(self.idle.pop().switch, None)


# SpawnedListener, the enqueue: calling it queues a call on CallQueue's fields. Its pure
# twin is _enqueue.SpawnedListener, its compiled one SpawnedListener in _speedups.c;
# _implementation picks one, as it picks the calling loop.


@final
class _InLine:
    """A call waiting for room in the queue, and how its firer learns the outcome."""

    __slots__ = ("call", "from_thread", "refused", "wake")

    def __init__(self, call: _Call, wake: Waiter[Any] | None, from_thread: bool) -> None:
        self.call: Final = call
        #: Switched to (in the hub) once the call is queued or refused; ``None`` when nobody
        #: waits for it. A firer killed meanwhile leaves a waiter that switches to nobody.
        self.wake: Final = wake
        #: Whether it came from another thread (counted against that thread's bound).
        self.from_thread: Final = from_thread
        #: Set when the pool closed before there was room: the firer gets ``PoolClosed``.
        self.refused = False


# Every pool, so that a forked child can start them afresh.
_all_pools: weakref.WeakSet[ListenerPool] = weakref.WeakSet()


@final
class ListenerPool:
    """Runs spawned listeners in ``size`` long-lived greenlets fed from a bounded queue.

    Firing a hook only enqueues the call, so a slow listener (a webhook, a file or database
    write) never stalls the user that fired; no greenlet is created per event. When the
    queue holds ``maxsize`` calls, ``on_full`` decides:

    - ``"block"`` (default): the firing greenlet waits cooperatively for room; nothing is
      lost. A firer killed while it waits (Locust stopping its users) leaves its call in
      line: it is delivered when room comes.
    - ``"drop"``: the call is counted as dropped and a rate-limited warning is logged.
    - ``"raise"``: :class:`PoolFull` is raised to the caller.

    Where waiting is impossible, nothing deadlocks: fired from the gevent hub, a call that
    finds the queue full waits in line without its firer ("block"), or is dropped or refused
    as above. The pool's workers live in the thread that made it, its home (or, once that
    thread has ended, the next thread to fire into it); fired from any other thread, a call
    is handed to the home hub thread-safely. At most ``maxsize`` such calls are on their way
    or in line at once: beyond that a firing thread waits for room (``"block"``, a real
    thread wait that ends when a call is queued or the pool closes), or drops or raises in
    that thread. A forked child starts with empty pools: what was queued belongs to the
    parent.

    ``threads=True`` makes it a thread-backed pool, for listeners that block in calls gevent
    cannot make cooperative (``sqlite3``, a database driver without gevent support, C
    code): each worker hands its call to a thread of the pool's own (``size`` of them) and
    waits for it cooperatively, so the users keep running meanwhile. The bound, ``on_full``,
    accounting, error recording, draining and closing are the same; a call whose thread is
    still running when ``close``'s timeout passes is counted as failed and finishes in its
    thread.

    Workers start on first use. A listener's exception is logged with its traceback and
    counted by the hook's error policy and never kills its worker; a worker killed from
    outside is replaced and its call counted as failed. Every call taken ends exactly once,
    as completed, failed or dropped (see :class:`PoolStats`).
    """

    __slots__ = (
        "__weakref__",
        "_batch_listeners",
        "_batch_room_waiters",
        "_closed",
        "_completed",
        "_current_calls",
        "_dropped",
        "_drops_unreported",
        "_failed",
        "_handed_over",
        "_handover_lock",
        "_held_events",
        "_high_water",
        "_home_token",
        "_in_line",
        "_join_deadline",
        "_joiners",
        "_last_drop_warning",
        "_queue",
        "_refill_pending",
        "_thread_dropped",
        "_thread_outstanding",
        "_thread_pool",
        "_thread_waiters",
        "_threads_waiting",
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
        #: How many calls may wait in the queue.
        self.maxsize: Final = maxsize
        #: What a fire does when the queue is full.
        self.on_full: Final[OnFull] = on_full
        #: How messages name the pool.
        self.name: Final = name
        #: Whether each worker runs its calls in a thread of the pool's own (``size``
        #: threads), so that a listener blocking in real, unpatched calls leaves the hub
        #: running.
        self.threads: Final = threads
        self._handover_lock = _allocate_lock()
        #: The queue, shared with the spawned listeners' enqueue.
        self._queue: Final = CallQueue()
        #: The batch listeners spawned into this pool, whose batches a join hands over.
        self._batch_listeners: weakref.WeakSet[Any] = weakref.WeakSet()
        self._start_afresh()
        self._bind_home()
        _all_pools.add(self)

    def _start_afresh(self) -> None:
        """Empty, unbound state: at construction, and in a forked child."""
        # The thread (and its hub) whose greenlets run the calls, in the queue: the one that
        # made the pool, then the next to fire into it once that thread has ended.
        queue = self._queue
        queue.calls, queue.room, queue.home, queue.hub, queue.idle = deque(), 0, None, None, []
        self._home_token: Callable[[], object] = _no_home
        #: Calls waiting for room, oldest first: fed into the queue as workers take calls.
        self._in_line: deque[_InLine] = deque()
        self._refill_pending = False
        self._workers: list[Greenlet[Any, None]] = []
        #: Where a thread-backed pool's workers run their calls: made with the workers, in
        #: the home thread (a thread pool serves one hub).
        self._thread_pool: gevent.threadpool.ThreadPool | None = None
        #: What each worker is running, so a killed worker's call can be accounted for.
        self._current_calls: dict[Greenlet[Any, None], _Call] = {}
        self._closed = False
        #: Each join's deadline and the event that wakes it.
        self._joiners: list[tuple[float, gevent.event.Event]] = []
        #: The earliest deadline of those joins: workers look at the clock only before it.
        self._join_deadline = _NEVER
        #: Events batch listeners hold in this pool beyond one per queued call: those in
        #: batches not handed over yet, and a queued batch's events but one. They count
        #: against ``maxsize`` as queued calls do (see ``_batching``).
        self._held_events = 0
        #: Batch listeners' firers waiting for room under "block", woken when a batch ends.
        self._batch_room_waiters: list[Waiter[Any]] = []
        self._completed = 0
        self._failed = 0
        self._dropped = 0
        #: The most calls queued at once, as last seen (the queue only shrinks as calls leave
        #: it, and its length is read just before).
        self._high_water = 0
        self._drops_unreported = 0
        self._last_drop_warning = 0.0
        # Other threads' side, changed under _handover_lock only.
        self._thread_dropped = 0
        #: Calls other threads handed to the hub that it has not taken yet.
        self._handed_over = 0
        #: Other threads' calls handed over or in line, not queued yet (at most ``maxsize``).
        self._thread_outstanding = 0
        #: Threads waiting for room, each blocked on a lock of its own.
        self._thread_waiters: deque[Any] = deque()
        self._threads_waiting = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._workers)}/{self.size} workers"
        return f"<ListenerPool {self.name!r} {state}, {self.stats.undelivered} unfinished>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: new calls are refused."""
        return self._closed

    @property
    def stats(self) -> PoolStats:
        """The pool's counters now."""
        calls = self._queue.calls
        queued = len(calls)
        try:
            oldest = _monotonic() - calls[0][0] if queued else 0.0
        except IndexError:  # read from another thread as a worker took the last call
            oldest = 0.0
        with self._handover_lock:
            dropped = self._dropped + self._thread_dropped
            on_their_way = self._handed_over + self._threads_waiting
        pending = queued + len(self._in_line) + on_their_way + self._held_events
        running = len(self._current_calls) + _batch_extras(list(self._current_calls.values()))
        completed, failed = self._completed, self._failed
        return PoolStats(
            # Every call taken ends exactly once, so what was taken follows from the rest.
            submitted=completed + failed + dropped + pending + running,
            completed=completed,
            failed=failed,
            dropped=dropped,
            pending=pending,
            running=running,
            high_water=max(self._high_water, queued),
            oldest_pending_age=oldest,
        )

    def submit(
        self, hook: FailureRecorder, listener: Callable[..., Any], kwargs: Mapping[str, Any]
    ) -> None:
        """Queue one call of ``listener(**kwargs)``; ``hook`` records it if it fails.

        The caller hands ``kwargs`` over: it must not change it afterwards.

        :raises PoolClosed: the pool was closed (also to a firer waiting for room then).
        :raises PoolFull: the queue is full and ``on_full`` is ``"raise"``.
        """
        if self._closed:
            raise self._closed_error(hook, listener)
        call: _Call = (_monotonic(), hook, listener, kwargs)
        if _thread_ident() != self._queue.home:
            self._submit_elsewhere(call)
            return
        if not self._workers:
            self._start_workers()
        if len(self._queue.calls) + self._held_events < self.maxsize:
            self._enqueue(call)
        elif self._wait_when_full(call):
            self._wait_for_room(call)
        else:
            self._drop(call)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every call taken has ended; False once ``timeout`` seconds have passed.

        Returns by its deadline in every state, give or take the calls running when it
        passes (a listener that blocks the hub delays everything, this too). Call it from a
        greenlet, not from the hub.
        """
        deadline = float("inf") if timeout is None else _monotonic() + timeout
        wake = gevent.event.Event()
        joiner = (deadline, wake)
        self._joiners.append(joiner)
        self._join_deadline = min(self._join_deadline, deadline)
        try:
            while True:
                self.hand_over_batches()
                unfinished = self._unfinished()
                if unfinished == 0 and not self._handed_over:
                    return True
                remaining = deadline - _monotonic()
                if remaining <= 0:
                    return False
                if unfinished == 0:
                    # Calls from other threads are on their way to the queue: let the hub run.
                    remaining = min(remaining, _HANDOVER_POLL)
                wake.clear()
                wake.wait(None if remaining == float("inf") else remaining)
        finally:
            self._joiners.remove(joiner)
            self._join_deadline = min((d for d, _ in self._joiners), default=_NEVER)

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new calls, wait up to ``timeout`` for the ones taken, then stop the workers.

        Firers still waiting for room when the timeout passes get :class:`PoolClosed`; their
        calls and those still queued are counted as dropped and named in one logged line.
        Nothing stays pending. Returns whether every call was delivered.
        """
        self._closed = True
        self._queue.room = 0  # every fire goes through submit, which refuses it
        delivered = self.join(timeout) if self._queue.home is not None else True
        self._refuse_all_waiting()
        self._warn_dropped(None)  # drops not yet reported are, now
        workers, self._workers = self._workers, []
        gevent.killall(workers, block=True, timeout=1.0)
        for worker in workers:
            # Account for a killed worker's call now; its link callback comes later and then
            # finds nothing left to do.
            self._worker_ended(worker)
        if self._thread_pool is not None:
            # Idle threads end; one still running a listener (close timed out) ends with it.
            self._thread_pool.kill()
            self._thread_pool = None
        return delivered and not self.stats.undelivered

    # Where the pool lives.

    def _submit_elsewhere(self, call: _Call) -> None:
        """A fire from outside the home thread: bind a home first, or hand the call over."""
        with self._handover_lock:
            rebind = self._queue.home is None or self._home_token() is None
            if rebind:
                self._bind_home()
        if rebind:
            self.submit(call[1], call[2], call[3])
        else:
            self._submit_from_other_thread(call)

    def _bind_home(self) -> None:
        """Make the calling thread the pool's home: at construction, after a fork, or once
        its home thread has ended (what that thread left queued moves here)."""
        queue = self._queue
        leftover = queue.calls
        stranded = self._current_calls
        queue.home = _thread_ident()
        # A thread-local object dies with its thread: a weak reference to it tells if it lives.
        token = getattr(_home_tokens, "token", None)
        if token is None:
            token = _home_tokens.token = _HomeToken()
        self._home_token = weakref.ref(token)
        queue.hub = gevent.get_hub()
        # Fresh fields: workers of the old home, if any run again, see they are not theirs.
        queue.calls, queue.room, queue.idle = deque(leftover), 0, []
        self._workers = []
        self._thread_pool = None  # the old home's threads served the old hub
        self._current_calls = {}
        for call in stranded.values():
            self._failed += _events_of(call[2])
            log_safely(
                "error",
                "The thread running %s ended while listener %s of hook %r ran; that call is "
                "counted as failed and the pool moved to this thread",
                self.name,
                describe_listener(call[2]),
                call[1].name,
            )

    # Batch listeners' events (the listeners live in ``_batching``).

    def hold_events(self, count: int) -> None:
        """Batch listeners took ``count`` events (or, negative, let them go): they count
        against ``maxsize`` like queued calls. In the home thread."""
        self._held_events += count
        if self._workers and not self._closed:
            self._queue.room = self.maxsize - self._held_events

    def batch_taken(self, batch: BatchOfEvents) -> None:
        """A worker took a batch's call out of the queue: its events leave the bound, as a
        call's one event does, and whoever waits for room may look again."""
        self.hold_events(1 - len(batch.events))
        if self._in_line:
            self._refill_soon()
        if self._batch_room_waiters:
            waiters, self._batch_room_waiters = self._batch_room_waiters, []
            for waiter in waiters:
                self._queue.hub.loop.run_callback(waiter.switch, None)

    def hand_over_batches(self) -> None:
        """Queue every batch listener's unfinished batch now (a join, a close): in the home
        thread only; elsewhere they wait for their size or ``max_wait``."""
        if _thread_ident() == self._queue.home:
            for batch_listener in list(self._batch_listeners):
                batch_listener.hand_over()

    # What happens to one call, from acceptance to its end.

    def _enqueue(self, call: _Call) -> None:
        """Queue a call there is room for (the enqueue's slow twin), waking an idle worker."""
        queue = self._queue
        queue.calls.append(call)
        if queue.idle:
            queue.wake_one()

    def _unfinished(self) -> int:
        """Calls taken in the home thread that have not ended: queued, in line or running (or
        nonzero while batch listeners hold events)."""
        calls = len(self._queue.calls) + len(self._in_line) + len(self._current_calls)
        return calls + self._held_events

    def _finished(self) -> None:
        """A call ended: wake the joins if it was the last."""
        if self._joiners and not self._unfinished():
            for _, wake in self._joiners:
                wake.set()

    def _note_high_water(self) -> None:
        """Before calls leave the queue: remember how many it holds, if that is a record."""
        depth = len(self._queue.calls)
        if depth > self._high_water:
            self._high_water = depth

    def _wait_for_room(self, call: _Call) -> None:
        hub = self._queue.hub
        if gevent.getcurrent() is hub:
            # The hub cannot wait on itself: the call waits in line without its firer.
            self._in_line.append(_InLine(call, None, False))
            return
        waiter: Waiter[Any] = Waiter(hub)
        place = _InLine(call, waiter, False)
        self._in_line.append(place)
        # Killed while waiting, the firer leaves: its call stays in line and is delivered.
        waiter.get()
        if place.refused:
            raise self._closed_error(call[1], call[2])

    def _refill_soon(self) -> None:
        """A worker took a call: the hub moves calls waiting in line into the room made."""
        if not self._refill_pending:
            self._refill_pending = True
            self._queue.hub.loop.run_callback(self._refill)

    def _refill(self) -> None:
        """Runs in the hub: queue the oldest calls in line while there is room, waking each
        firer at once (it may fire again straight away, as the workers made room meanwhile)."""
        self._refill_pending = False
        calls = self._queue.calls
        in_line = self._in_line
        while in_line and len(calls) + self._held_events < self.maxsize:
            place = in_line.popleft()
            self._enqueue(place.call)
            if place.from_thread:
                self._thread_call_queued()
            if place.wake is not None:
                place.wake.switch(None)

    def _wait_when_full(self, call: _Call) -> bool:
        """What a call that finds no room gets, wherever it was fired: True to wait for room
        (``"block"``), False to be dropped (``"drop"``); ``"raise"`` raises ``PoolFull``."""
        if self.on_full == "block":
            return True
        if self.on_full == "drop":
            return False
        raise self._full_error(call)

    def _drop(self, call: _Call) -> None:
        self._dropped += 1
        self._warn_dropped(call)

    def _warn_dropped(self, call: _Call | None) -> None:
        """Count a dropped call for the warning; log at most one line per interval, with the
        count since the last one (``call`` None: log what is unreported now, if anything)."""
        with self._handover_lock:  # threads drop too
            if call is not None:
                self._drops_unreported += 1
            now = _monotonic()
            due = call is None or now - self._last_drop_warning >= _DROP_WARNING_INTERVAL
            if not due or not self._drops_unreported:
                return
            self._last_drop_warning = now
            count, self._drops_unreported = self._drops_unreported, 0
        latest = (
            ""
            if call is None
            else (f", the latest of {describe_listener(call[2])} on hook {call[1].name!r}")
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

    def _closed_error(self, hook: FailureRecorder, listener: Callable[..., Any]) -> PoolClosed:
        return PoolClosed(
            f"Cannot run listener {describe_listener(listener)} of hook {hook.name!r}: "
            f"{self.name!r} is closed; fire before closing it, or spawn into an open pool"
        )

    def _full_error(self, call: _Call) -> PoolFull:
        return PoolFull(
            f"Cannot queue listener {describe_listener(call[2])} of hook {call[1].name!r}: "
            f"{self.name!r} holds {self.maxsize} pending calls; raise its maxsize or size, "
            "or choose on_full='block' or 'drop'"
        )

    # Calls from other threads.

    def _submit_from_other_thread(self, call: _Call) -> None:
        if self._reserve_for_a_thread(call):
            self._queue.hub.loop.run_callback_threadsafe(self._accept_handed_over, call)
        else:
            self._warn_dropped(call)

    def _reserve_for_a_thread(self, call: _Call) -> bool:
        """In the firing thread: count the call and make room for it; False if dropped.

        Waits (a real thread wait) for room under ``"block"``; raises ``PoolFull`` under
        ``"raise"``, and ``PoolClosed`` once the pool is closed.
        """
        lock = self._handover_lock
        with lock:
            waiting = False
            try:
                while not self._closed and not self._room_for_a_thread():
                    if not self._wait_when_full(call):
                        self._thread_dropped += 1
                        return False
                    if not waiting:
                        waiting = True
                        self._threads_waiting += 1
                    waiter = _allocate_lock()
                    waiter.acquire()
                    self._thread_waiters.append(waiter)
                    lock.release()
                    try:
                        waiter.acquire()
                    finally:
                        lock.acquire()
            finally:
                if waiting:
                    self._threads_waiting -= 1
            if self._closed:
                if waiting:
                    self._thread_dropped += 1
                raise self._closed_error(call[1], call[2])
            self._handed_over += 1
            self._thread_outstanding += 1
            return True

    def _room_for_a_thread(self) -> bool:
        outstanding = self._thread_outstanding
        if self.on_full == "block":
            return outstanding < self.maxsize
        # "drop" and "raise" decide now, in the firing thread, from what the queue holds too.
        return outstanding + len(self._queue.calls) + self._held_events < self.maxsize

    def _accept_handed_over(self, call: _Call) -> None:
        """Runs in the home hub: take a call another thread fired, in line if need be."""
        with self._handover_lock:
            self._handed_over -= 1
        if self._closed:
            self._dropped += 1
            self._thread_call_queued()
            self._warn_dropped(call)
            return
        if not self._workers:
            self._start_workers()
        if len(self._queue.calls) + self._held_events < self.maxsize and not self._in_line:
            self._enqueue(call)
            self._thread_call_queued()
        else:
            self._in_line.append(_InLine(call, None, True))

    def _thread_call_queued(self) -> None:
        """One call from another thread left the thread bound: let one waiting thread on."""
        with self._handover_lock:
            self._thread_outstanding -= 1
            if self._thread_waiters:
                self._thread_waiters.popleft().release()

    def _refuse_all_waiting(self) -> None:
        """At close: drop what is queued or in line, answer waiting firers with PoolClosed."""
        self._note_high_water()
        calls = self._queue.calls
        batched = _batch_extras(calls)
        self._held_events -= batched
        discarded = len(calls) + batched
        calls.clear()
        while self._in_line:
            place = self._in_line.popleft()
            discarded += 1
            place.refused = True
            if place.from_thread:
                self._thread_call_queued()
            if place.wake is not None:
                self._queue.hub.loop.run_callback(place.wake.switch, None)
        with self._handover_lock:
            while self._thread_waiters:
                self._thread_waiters.popleft().release()
        self._dropped += discarded
        self._finished()
        if discarded or self._current_calls:
            log_safely(
                "error",
                "%s closed with %d call(s) discarded (queued or waiting for room, counted as "
                "dropped) and %d still running; give close() a longer timeout to deliver them",
                self.name,
                discarded,
                len(self._current_calls),
            )

    # The workers.

    def _start_workers(self) -> None:
        if self.threads and self._thread_pool is None:
            self._thread_pool = gevent.threadpool.ThreadPool(self.size, hub=self._queue.hub)
        for _ in range(self.size - len(self._workers)):
            self._start_worker()
        if not self._closed:
            # The enqueue may queue on its own now, up to the room batches leave.
            self._queue.room = self.maxsize - self._held_events

    def _start_worker(self) -> None:
        worker: Greenlet[Any, None] = Greenlet(self._work)
        worker.link(self._worker_ended)
        self._workers.append(worker)
        worker.start()

    def _work(self) -> None:
        """A worker: run every queued call, then sleep until an enqueue wakes it."""
        queue = self._queue
        calls, idle, hub = queue.calls, queue.idle, queue.hub
        worker: Any = gevent.getcurrent()
        while run_queued_calls(self, worker, BatchOfEvents):
            waiter: Waiter[Any] = Waiter(hub)
            idle.append(waiter)
            try:
                waiter.get()
            finally:
                if waiter in idle:  # woken otherwise: killed, or the hub switched here
                    idle.remove(waiter)
            if calls is not queue.calls:
                return  # the pool started afresh (a fork, a new home): these are not ours

    def _call_failed(self, call: _Call, error: Exception) -> None:
        """A worker's call raised ``error``: count it (a batch as its events) and let its
        hook's error policy record it."""
        listener = call[2]
        self._failed += _events_of(listener)
        # The error policy never raises; a recorder of another kind must not kill the worker.
        with contextlib.suppress(Exception):
            call[1].record_failure(listener, error)

    def _let_late_joiners_return(self) -> None:
        """Between calls: wake joins whose deadline passed and let them run before going on."""
        now = _monotonic()
        late = [wake for deadline, wake in self._joiners if deadline <= now]
        if late:
            for wake in late:
                wake.set()
            gevent.sleep(0)

    def _worker_ended(self, worker: Greenlet[Any, None]) -> None:
        """Runs in the hub when a worker ends: account for its call and replace it."""
        call = self._current_calls.get(worker)
        if call is not None:
            self._failed += _events_of(call[2])
            del self._current_calls[worker]
            self._finished()
            log_safely(
                "error",
                "A worker of %s ended (%s) while running listener %s of hook %r; that call "
                "is counted as failed and the worker replaced",
                self.name,
                type(worker.exception).__name__ if worker.exception else "killed",
                describe_listener(call[2]),
                call[1].name,
            )
        if worker in self._workers:
            self._workers.remove(worker)
            if not self._closed:
                self._start_worker()


class _HomeToken:
    """Lives in its pool's home thread's local storage, so it dies with that thread."""

    __slots__ = ("__weakref__",)


_home_tokens: Any = _thread_local()


def _no_home() -> None:
    return None


def _require_count(pool: str, parameter: str, value: object, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"ListenerPool {pool!r}: {parameter} must be an int, not {value!r} "
            f"({type(value).__name__}); pass {meaning}"
        )
    if value < 1:
        raise ValueError(f"ListenerPool {pool!r}: {parameter} must be at least 1, not {value}")


def _start_every_pool_afresh() -> None:
    """In a forked child: the parent's queued calls and workers are the parent's."""
    for pool in list(_all_pools):
        closed = pool._closed
        pool._handover_lock = _allocate_lock()
        pool._start_afresh()
        pool._closed = closed


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_start_every_pool_afresh)


_default_pool: ListenerPool | None = None


def default_pool() -> ListenerPool:
    """The process-wide pool of spawned listeners of hooks that belong to no ``Events``."""
    global _default_pool
    if _default_pool is None:
        _default_pool = ListenerPool(name="default listener pool")
    return _default_pool
