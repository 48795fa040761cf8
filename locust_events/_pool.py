"""``ListenerPool``: long-lived worker greenlets that run spawned listeners from a bounded queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, final

import gevent
import gevent.event
import gevent.monkey
import gevent.queue
from gevent import Greenlet

from ._errors import DispatchError, describe_listener, logger

__all__ = ["ListenerPool", "PoolClosed", "PoolFull", "PoolStats", "default_pool"]

OnFull = Literal["block", "drop", "raise"]

# The real thread id even under monkey-patching, where threading.get_ident names greenlets.
_thread_ident: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_allocate_lock: Final[Callable[[], Any]] = gevent.monkey.get_original("_thread", "allocate_lock")
_monotonic: Final = time.monotonic
#: At most one "dropped" warning per this many seconds and pool.
_DROP_WARNING_INTERVAL: Final = 10.0


class PoolFull(DispatchError):
    """A pool with ``on_full="raise"`` had no room for a spawned listener's call."""


class PoolClosed(DispatchError, RuntimeError):
    """A spawned listener was fired after its pool was closed."""


class FailureRecorder(Protocol):
    """What a pool needs of a hook: a name for messages and the error policy's log-and-count."""

    name: str

    def _record_spawned_failure(self, listener: Callable[..., Any], error: Exception) -> None: ...


@final
@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters, for a runner to show."""

    #: Calls accepted by the pool (queued, or waiting for room).
    submitted: int
    #: Calls whose listener returned.
    completed: int
    #: Calls whose listener raised, or whose worker was killed while running them.
    failed: int
    #: Calls refused for lack of room under ``on_full="drop"``, or discarded by ``close``.
    dropped: int
    #: Calls accepted but not started yet.
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


@final
class ListenerPool:
    """Runs spawned listeners in ``size`` long-lived greenlets fed from a bounded queue.

    Firing a hook only enqueues the call, so a slow listener (a webhook, a file or database
    write) never stalls the user that fired; no greenlet is created per event. When the
    queue holds ``maxsize`` calls, ``on_full`` decides:

    - ``"block"`` (default): the firing greenlet waits cooperatively for room; nothing is lost.
    - ``"drop"``: the call is counted as dropped and a rate-limited warning is logged.
    - ``"raise"``: :class:`PoolFull` is raised to the caller.

    Where waiting is impossible, nothing deadlocks: fired from the gevent hub, a call that
    finds the queue full is handed to a short-lived greenlet that waits for room ("block"),
    or is dropped or refused as above. Fired from another thread (one not running this
    pool's hub, gevent or not), a call is handed to the pool's hub thread-safely and
    queued there, waiting for room if need be; ``"raise"`` raises in the calling thread when
    the queue is full at that moment. The pool belongs to the thread that created it.

    Workers start on first use. A listener's exception is logged with its traceback and
    counted by the hook's error policy and never kills its worker; a worker killed from
    outside is replaced and its call counted as failed.
    """

    __slots__ = (
        "_closed",
        "_completed",
        "_current_calls",
        "_dropped",
        "_drops_unreported",
        "_failed",
        "_handed_over",
        "_handover_lock",
        "_high_water",
        "_home_thread",
        "_hub",
        "_idle",
        "_last_drop_warning",
        "_queue",
        "_running",
        "_submitted",
        "_unfinished",
        "_waiting_for_room",
        "_workers",
        "maxsize",
        "name",
        "on_full",
        "size",
    )

    def __init__(
        self,
        size: int = 8,
        maxsize: int = 10_000,
        on_full: OnFull = "block",
        *,
        name: str = "listener pool",
    ) -> None:
        if size < 1:
            raise ValueError(f"ListenerPool {name!r}: size must be at least 1, not {size}")
        if maxsize < 1:
            raise ValueError(f"ListenerPool {name!r}: maxsize must be at least 1, not {maxsize}")
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
        self._home_thread = _thread_ident()
        self._hub = gevent.get_hub()
        self._queue: gevent.queue.Queue[Any] = gevent.queue.Queue(maxsize)
        self._workers: list[Greenlet[Any, None]] = []
        #: What each worker is running, so a killed worker's call can be accounted for.
        self._current_calls: dict[Greenlet[Any, None], _Call] = {}
        self._closed = False
        self._idle = gevent.event.Event()
        self._idle.set()
        self._unfinished = 0
        self._submitted = 0
        self._completed = 0
        self._failed = 0
        self._dropped = 0
        self._running = 0
        self._waiting_for_room = 0
        #: Calls other threads handed to the hub that it has not queued yet.
        self._handed_over = 0
        self._handover_lock = _allocate_lock()
        self._high_water = 0
        self._drops_unreported = 0
        self._last_drop_warning = 0.0

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._workers)}/{self.size} workers"
        return f"<ListenerPool {self.name!r} {state}, {self._unfinished} unfinished>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: new calls are refused."""
        return self._closed

    @property
    def stats(self) -> PoolStats:
        """The pool's counters now."""
        queue = self._queue
        oldest = _monotonic() - queue.peek(block=False)[0] if queue.qsize() else 0.0
        return PoolStats(
            submitted=self._submitted,
            completed=self._completed,
            failed=self._failed,
            dropped=self._dropped,
            pending=queue.qsize() + self._waiting_for_room + self._handed_over,
            running=self._running,
            high_water=self._high_water,
            oldest_pending_age=oldest,
        )

    def submit(
        self, hook: FailureRecorder, listener: Callable[..., Any], kwargs: Mapping[str, Any]
    ) -> None:
        """Queue one call of ``listener(**kwargs)``; ``hook`` records it if it fails.

        The caller hands ``kwargs`` over: it must not change it afterwards.

        :raises PoolClosed: the pool was closed.
        :raises PoolFull: the queue is full and ``on_full`` is ``"raise"``.
        """
        if self._closed:
            raise PoolClosed(
                f"Cannot run listener {describe_listener(listener)} of hook {hook.name!r}: "
                f"{self.name!r} is closed; fire before closing it, or spawn into an open pool"
            )
        call: _Call = (_monotonic(), hook, listener, kwargs)
        if _thread_ident() != self._home_thread:
            self._submit_from_other_thread(call)
            return
        if not self._workers:
            self._start_workers()
        queue = self._queue
        if queue.qsize() < self.maxsize:
            queue.put_nowait(call)
            self._accepted()
        elif self.on_full == "block":
            self._wait_for_room(call)
        elif self.on_full == "drop":
            self._drop(call)
        else:
            raise PoolFull(
                f"Cannot queue listener {describe_listener(listener)} of hook {hook.name!r}: "
                f"{self.name!r} holds {self.maxsize} pending calls; raise its maxsize or size, "
                "or choose on_full='block' or 'drop'"
            )

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every accepted call has finished; False if ``timeout`` seconds pass first.

        Call it from a greenlet of the pool's thread (not from the hub).
        """
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - _monotonic(), 0.0)
            if not self._idle.wait(remaining):
                return False
            if not self._handed_over:
                return True
            # Calls from other threads are on their way to the queue: let the hub take them.
            gevent.sleep(0.001)

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new calls, wait up to ``timeout`` for the accepted ones, then stop the workers.

        Calls still queued when the timeout passes are discarded, counted as dropped and
        named in one logged line. Returns whether every call was delivered.
        """
        self._closed = True
        delivered = self.join(timeout)
        if not delivered:
            self._discard_queued_calls()
        workers, self._workers = self._workers, []
        gevent.killall(workers, block=True, timeout=1.0)
        for worker in workers:
            # Account for a killed worker's call now; its link callback comes later and then
            # finds nothing left to do.
            self._worker_ended(worker)
        return delivered

    # What happens to one call, from acceptance to its end.

    def _accepted(self) -> None:
        self._submitted += 1
        if self._unfinished == 0:
            self._idle.clear()
        self._unfinished += 1
        depth = self._queue.qsize()
        if depth > self._high_water:
            self._high_water = depth

    def _finished(self) -> None:
        self._unfinished -= 1
        if self._unfinished == 0:
            self._idle.set()

    def _wait_for_room(self, call: _Call) -> None:
        if gevent.getcurrent() is self._hub:
            # The hub cannot wait on itself: a short-lived greenlet waits for room instead.
            self._waiting_for_room += 1
            self._accepted()
            gevent.spawn(self._put_when_room, call)
            return
        self._queue.put(call)
        self._accepted()

    def _put_when_room(self, call: _Call) -> None:
        try:
            self._queue.put(call)
        finally:
            self._waiting_for_room -= 1
        depth = self._queue.qsize()
        if depth > self._high_water:
            self._high_water = depth

    def _drop(self, call: _Call) -> None:
        self._dropped += 1
        self._drops_unreported += 1
        now = _monotonic()
        if now - self._last_drop_warning >= _DROP_WARNING_INTERVAL:
            logger.warning(
                "%s is full (%d pending): dropped %d call(s) of spawned listeners, the latest "
                "of %s on hook %r; raise its maxsize or size, or use on_full='block'",
                self.name,
                self.maxsize,
                self._drops_unreported,
                describe_listener(call[2]),
                call[1].name,
            )
            self._last_drop_warning = now
            self._drops_unreported = 0

    def _submit_from_other_thread(self, call: _Call) -> None:
        if self.on_full == "raise" and self._queue.qsize() >= self.maxsize:
            raise PoolFull(
                f"Cannot queue listener {describe_listener(call[2])} of hook {call[1].name!r} "
                f"from another thread: {self.name!r} is full"
            )
        with self._handover_lock:
            self._handed_over += 1
        self._hub.loop.run_callback_threadsafe(self._accept_handed_over, call)

    def _accept_handed_over(self, call: _Call) -> None:
        """Runs in the pool's hub: queue a call another thread fired, waiting if need be."""
        with self._handover_lock:
            self._handed_over -= 1
        if not self._workers and not self._closed:
            self._start_workers()
        if self._queue.qsize() < self.maxsize:
            self._queue.put_nowait(call)
            self._accepted()
        elif self.on_full == "drop":
            self._drop(call)
        else:
            self._waiting_for_room += 1
            self._accepted()
            gevent.spawn(self._put_when_room, call)

    def _discard_queued_calls(self) -> None:
        discarded: list[_Call] = []
        while self._queue.qsize():
            discarded.append(self._queue.get_nowait())
        if not discarded and not self._running:
            return
        for _ in discarded:
            self._dropped += 1
            self._finished()
        logger.error(
            "%s closed with %d queued call(s) discarded and %d still running; give close() "
            "a longer timeout to deliver them",
            self.name,
            len(discarded),
            self._running,
        )

    # The workers.

    def _start_workers(self) -> None:
        for _ in range(self.size - len(self._workers)):
            self._start_worker()

    def _start_worker(self) -> None:
        worker: Greenlet[Any, None] = Greenlet(self._work)
        worker.link(self._worker_ended)
        self._workers.append(worker)
        worker.start()

    def _work(self) -> None:
        queue = self._queue
        current_calls = self._current_calls
        worker: Any = gevent.getcurrent()
        while True:
            call: _Call = queue.get()
            _, hook, listener, kwargs = call
            current_calls[worker] = call
            self._running += 1
            # A BaseException (the worker killed) leaves the loop here: _worker_ended then
            # accounts for the call, which is still in current_calls.
            try:
                listener(**kwargs)
            except Exception as error:
                self._failed += 1
                hook._record_spawned_failure(listener, error)
            else:
                self._completed += 1
            del current_calls[worker]
            self._running -= 1
            self._finished()

    def _worker_ended(self, worker: Greenlet[Any, None]) -> None:
        """Runs in the hub when a worker ends: account for its call and replace it."""
        call = self._current_calls.pop(worker, None)
        if call is not None:
            self._running -= 1
            self._failed += 1
            self._finished()
            logger.error(
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


_default_pool: ListenerPool | None = None


def default_pool() -> ListenerPool:
    """The process-wide pool of spawned listeners of hooks that belong to no ``Events``."""
    global _default_pool
    if _default_pool is None:
        _default_pool = ListenerPool(name="default listener pool")
    return _default_pool
