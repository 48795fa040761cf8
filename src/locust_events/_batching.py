"""Batch listeners: fires collected into batches that a pool hands to one call each."""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any, Final, final

import gevent
from gevent.hub import Waiter

from ._errors import describe_listener
from ._implementation import batch_accept
from ._pool import (
    NO_ARGUMENTS,
    BatchOfEvents,
    FailureRecorder,
    ListenerPool,
    _thread_ident,
)

__all__ = ["BatchListener", "BatchSettings", "batch_listener_of", "check_batch_listener"]

_monotonic: Final = time.monotonic
#: How often a firer waiting for room in a full pool looks again when no batch ended meanwhile
#: (room made by spawned listeners' calls wakes nobody).
_ROOM_RECHECK: Final = 0.01


@final
@dataclass(frozen=True, slots=True)
class BatchSettings:
    """When a batch listener's batch is delivered, as :attr:`Registration.batch` gives it."""

    #: A batch is delivered once it holds this many events.
    max_size: int
    #: ...or once this many seconds passed since its first event.
    max_wait: float


@final
class _BatchRecorder:
    """Records a failed batch once, under its hook's error policy, naming the batch size."""

    __slots__ = ("hook", "name")

    def __init__(self, hook: FailureRecorder) -> None:
        self.hook: Final = hook
        #: How pool messages name it: its hook's name.
        self.name = hook.name

    def record_failure(self, listener: Callable[..., Any], error: Exception) -> None:
        if type(listener) is BatchOfEvents:
            size = len(listener.events)
            if hasattr(error, "add_note"):  # Python 3.11+: the logged traceback shows it
                error.add_note(
                    f"Batch listener {describe_listener(listener.listener)} of hook "
                    f"{self.hook.name!r} raised on a batch of {size} event(s); all of them "
                    "are counted as failed"
                )
            listener = listener.listener
        self.hook.record_failure(listener, error)


@final
class _TimedBatch:
    """Runs one batch under a profiler: counts it and its events, times it."""

    __slots__ = ("__wrapped__", "_profile")

    def __init__(self, listener: Callable[..., Any], profile: Any) -> None:
        self.__wrapped__ = listener
        self._profile = profile

    def __call__(self, batch: list[Any]) -> None:
        failed = True
        started = time.perf_counter()
        try:
            self.__wrapped__(batch)
            failed = False
        finally:
            self._profile.events += len(batch)
            self._profile.record(time.perf_counter() - started, failed)


# Every batch listener, so that a forked child can empty their batches.
_all_batch_listeners: weakref.WeakSet[BatchListener] = weakref.WeakSet()


@final
class BatchListener:
    """A batch listener's batch, its timer and the way a fire joins it.

    Its :attr:`accept` function is the hot half, which the hook calls for every fire, kept
    to a few steps: in the pool's home thread, while the pool has room (its
    :class:`~locust_events._pool.CallQueue` ``room``, which counts the events batch
    listeners hold), the fire's keyword arguments (a new dict on every call, so as at fire
    time; on the compiled loop a ``_speedups.FiredKeywords``, a read-only mapping of them that the
    listener gets as it is) join the batch, the pool's room shrinks by one and, at
    ``max_size`` events, the batch is handed over as one call. The first event of a batch
    starts a timer in the home hub that hands it over after ``max_wait`` seconds. Everything
    else (another thread, a full or closed pool, workers not started) goes through
    :meth:`_take_slowly`.
    """

    __slots__ = (
        "__weakref__",
        "_batch",
        "_queue",
        "_recorder",
        "_timer",
        "accept",
        "batches",
        "delivered",
        "hook",
        "listener",
        "max_size",
        "max_wait",
        "pool",
        "profile",
    )

    def __init__(
        self,
        hook: FailureRecorder,
        listener: Callable[..., Any],
        pool: ListenerPool,
        settings: BatchSettings,
    ) -> None:
        #: The function that gets the batches.
        self.listener: Final = listener
        #: The pool that runs it.
        self.pool: Final = pool
        #: The hook it is registered on, whose error policy records failed batches.
        self.hook: Final = hook
        #: How many events make a batch.
        self.max_size: Final = settings.max_size
        #: How long a batch's first event waits at most.
        self.max_wait: Final = settings.max_wait
        #: Batches handed over so far, and the events in them (mean batch size: their ratio).
        self.batches = 0
        self.delivered = 0
        self._queue: Final = pool._queue
        self._recorder: Final = _BatchRecorder(hook)
        self._batch: list[dict[str, Any]] = []
        self._timer: Any = None
        #: Set by a profiler: each batch that runs is timed and counted there.
        self.profile: Any = None
        #: What the hook calls on each fire: compiled, or ``_accumulator.batch_accept``.
        self.accept: Final[Callable[..., None]] = batch_accept(
            self,
            self._queue,
            pool,
            self.max_size,
            self.hand_over,
            self._start_timer,
            self._take_slowly,
        )
        pool._batch_listeners.add(self)
        _all_batch_listeners.add(self)

    @property
    def settings(self) -> BatchSettings:
        return BatchSettings(self.max_size, self.max_wait)

    @property
    def waiting(self) -> int:
        """Events in the batch not handed over yet."""
        return len(self._batch)

    def hand_over(self) -> None:
        """Queue the batch as one call now, if it holds any event. In the home thread."""
        batch = self._batch
        if not batch:
            return
        self._batch = []
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.close()
        self.batches += 1
        self.delivered += len(batch)
        pool = self.pool
        pool.hold_events(-1)  # the call counts as one itself now
        if not pool._workers:
            pool._start_workers()
        listener = (
            self.listener if self.profile is None else _TimedBatch(self.listener, self.profile)
        )
        pool._enqueue((_monotonic(), self._recorder, BatchOfEvents(listener, batch), NO_ARGUMENTS))

    def hand_over_when_home(self) -> None:
        """Hand the batch over now if called in the pool's thread; elsewhere its timer will."""
        if _thread_ident() == self._queue.home:
            self.hand_over()

    def _start_timer(self, batch: list[dict[str, Any]]) -> None:
        timer = self._queue.hub.loop.timer(self.max_wait)
        timer.start(self._waited, batch)
        self._timer = timer

    def _waited(self, batch: list[dict[str, Any]]) -> None:
        """In the hub, ``max_wait`` after ``batch`` began: hand it over if it still waits."""
        if batch is self._batch:
            with contextlib.suppress(Exception):  # a hub callback must not raise
                self.hand_over()

    def _take_slowly(self, kwargs: dict[str, Any]) -> None:
        """An event the hot path could not take: decide as a spawned listener's call would."""
        pool = self.pool
        if pool._closed:
            raise pool._closed_error(self.hook, self.listener)
        queue = self._queue
        if _thread_ident() != queue.home:
            self._take_from_other_thread(kwargs)
            return
        if not pool._workers:
            pool._start_workers()
        while len(queue.calls) + pool._held_events >= pool.maxsize:
            if gevent.getcurrent() is queue.hub and pool.on_full == "block":
                break  # the hub cannot wait: the event is taken all the same
            call = (_monotonic(), self.hook, self.listener, kwargs)
            if not pool._wait_when_full(call):  # raises PoolFull under "raise"
                pool._drop(call)
                return
            # "block": let our own batch go first, then wait until a worker takes a batch.
            self.hand_over()
            if len(queue.calls) + pool._held_events < pool.maxsize:
                break
            waiter: Waiter[Any] = Waiter(queue.hub)
            pool._batch_room_waiters.append(waiter)
            recheck = gevent.Timeout(_ROOM_RECHECK)
            recheck.start()
            try:
                waiter.get()
            except gevent.Timeout as timeout:
                if timeout is not recheck:
                    raise
            finally:
                recheck.close()
                with contextlib.suppress(ValueError):
                    pool._batch_room_waiters.remove(waiter)
            if pool._closed:
                raise pool._closed_error(self.hook, self.listener)
        self._take(kwargs)

    def _take(self, kwargs: dict[str, Any]) -> None:
        """Add an event the pool has room for (or, from the hub, that cannot wait)."""
        batch = self._batch
        batch.append(kwargs)
        self.pool.hold_events(1)
        if len(batch) >= self.max_size:
            self.hand_over()
        elif len(batch) == 1:
            self._start_timer(batch)

    def _take_from_other_thread(self, kwargs: dict[str, Any]) -> None:
        pool = self.pool
        call = (_monotonic(), self.hook, self.listener, kwargs)
        with pool._handover_lock:
            rebind = self._queue.home is None or pool._home_token() is None
            if rebind:
                pool._bind_home()
        if rebind:
            self._take_slowly(kwargs)
        elif pool._reserve_for_a_thread(call):
            self._queue.hub.loop.run_callback_threadsafe(self._arrived, kwargs)
        else:
            pool._warn_dropped(call)

    def _arrived(self, kwargs: dict[str, Any]) -> None:
        """In the home hub: take an event another thread fired."""
        pool = self.pool
        with pool._handover_lock:
            pool._handed_over -= 1
        try:
            if pool._closed:
                pool._dropped += 1
                pool._warn_dropped((_monotonic(), self.hook, self.listener, kwargs))
                return
            if not pool._workers:
                pool._start_workers()
            self._take(kwargs)  # the firing thread waited for room already
        finally:
            pool._thread_call_queued()

    def _start_afresh(self) -> None:
        """In a forked child: the batch belongs to the parent."""
        self._batch = []
        self._timer = None

    def __repr__(self) -> str:
        return (
            f"<batch listener {describe_listener(self.listener)} (max_size={self.max_size}, "
            f"max_wait={self.max_wait:g}) in {self.pool!r}>"
        )


def check_batch_listener(hook_name: str, func: object, max_size: object, max_wait: object) -> None:
    """Refuse a batch listener that could never work, naming the hook, listener and fix."""
    if not callable(func):
        raise TypeError(
            f"Cannot add {func!r} to hook {hook_name!r} as a batch listener: it must be "
            "callable (pass the function itself, not the result of calling it)"
        )
    name = describe_listener(func)
    where = f"Cannot add batch listener {name} to hook {hook_name!r}"
    if isinstance(max_size, bool) or not isinstance(max_size, int):
        raise TypeError(
            f"{where}: max_size must be an int, not {max_size!r}; pass how many events make "
            "a batch, e.g. max_size=1000"
        )
    if max_size < 1:
        raise ValueError(
            f"{where}: max_size must be at least 1, not {max_size}; pass how many events "
            "make a batch, e.g. max_size=1000"
        )
    if isinstance(max_wait, bool) or not isinstance(max_wait, (int, float)):
        raise TypeError(
            f"{where}: max_wait must be a number of seconds, not {max_wait!r}; pass e.g. "
            "max_wait=1.0"
        )
    if not math.isfinite(max_wait) or max_wait <= 0:
        raise ValueError(
            f"{where}: max_wait must be a finite number of seconds above 0, not {max_wait!r}; "
            "pass e.g. max_wait=1.0"
        )
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin without a signature: let it be
        return
    try:
        signature.bind([])
    except TypeError as error:
        raise TypeError(
            f"{where}: it must take the batch as its one positional argument ({error}); "
            "define it as def listener(batch): ..."
        ) from None


def check_pool_fits(hook_name: str, func: object, max_size: int, pool: ListenerPool) -> None:
    """A batch never larger than the pool's bound, or it could never fill."""
    if max_size > pool.maxsize:
        raise ValueError(
            f"Cannot add batch listener {describe_listener(func)} to hook {hook_name!r}: "
            f"max_size={max_size} is above the maxsize of {pool.name!r} ({pool.maxsize}), "
            "whose bound counts a batch's events; pass a smaller max_size or a pool with a "
            "larger maxsize"
        )


def batch_listener_of(entry: object) -> BatchListener | None:
    """The batch listener whose :attr:`BatchListener.accept` a hook entry is, else ``None``."""
    if type(entry) is not FunctionType and type(entry) is not batch_accept:
        return None
    found = getattr(entry, "__batch_listener__", None)
    return found if type(found) is BatchListener else None


def _start_every_batch_afresh() -> None:
    for batch_listener in list(_all_batch_listeners):
        batch_listener._start_afresh()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_start_every_batch_afresh)
