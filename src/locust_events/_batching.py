"""Batch listeners: fires collected into batches that a pool hands to one call each.

Compiled by Cython where a compiler exists, as ``_call_queue.py`` is (see there): the ``.pxd``
beside it declares :class:`BatchListener` a final C type, hence no ``typing.final`` on it.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, final

import gevent.monkey

from ._batch_event import batch_of, collect_after_delivery
from ._call_queue import CallQueue
from ._calls import NO_TIMEOUT, Arguments, Call
from ._errors import describe_listener, log_safely
from ._implementation import adopt_compiled_twin, keywords_to, owner_of_forwarder
from ._listener_kinds import refuse_listener_that_never_runs

__all__ = [
    "BatchListener",
    "BatchSettings",
    "batch_listener_of",
    "check_batch_listener",
    "check_pool_fits",
]

_thread_ident: Final[Callable[[], int]] = gevent.monkey.get_original("_thread", "get_ident")
_monotonic: Final = time.monotonic
_perf_counter: Final = time.perf_counter
#: The keyword arguments of a batch's call, packed: none, the batch is in its delivery.
_NO_ARGUMENTS: Final[Arguments] = ((),)


@final
@dataclass(frozen=True, slots=True)
class BatchSettings:
    """When a batch listener's batch is delivered, as :attr:`Registration.batch` gives it."""

    #: A batch is delivered once it holds this many events.
    max_size: int
    #: ...or once this many seconds passed since its first event.
    max_wait: float


@final
class _Delivery:
    """A batch's call: the listener gets a new list of a read-only mapping of each event (a
    dict made of its packed keyword arguments, here, in the pool's worker), in fire order;
    under a profiler, the call is timed there (the round counts it)."""

    __slots__ = ("events", "listener", "profile")

    def __init__(self, listener: Callable[..., Any], events: list[Any], profile: Any) -> None:
        self.listener: Final = listener
        self.events: Final = events
        self.profile: Final = profile

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.listener

    def __call__(self) -> None:
        batch = batch_of(self.events)
        profile = self.profile
        started = 0.0 if profile is None else _perf_counter()
        try:
            self.listener(batch)
        finally:
            if profile is not None:
                profile.record_time(_perf_counter() - started)
            collect_after_delivery(batch)

    def __repr__(self) -> str:
        return f"<batch of {len(self.events)} events for {describe_listener(self.listener)}>"


class BatchListener:
    """A batch listener's batch, its timer and the way a fire joins it.

    Its :attr:`accept` function is what the hook calls for every fire (``keywords_to`` of
    :meth:`fired`): in the pool's home thread, while the pool has room, the fire's keyword
    arguments, packed without a dict, join the batch, which the pool's bound counts event by
    event; at ``max_size`` events the batch is handed over as one call. The first event of a
    batch starts a timer in the home hub that hands it over after ``max_wait`` seconds.
    Everything else (another thread, a full or closed pool, workers not started) takes the
    pool's slow way, as a spawned call does.
    """

    __slots__ = (
        "__weakref__",
        "_batch",
        "_queue",
        "_timer",
        "accept",
        "batches",
        "delivered",
        "hook",
        "listener",
        "max_size",
        "max_wait",
        "profile",
        "timeout",
    )

    def __init__(
        self,
        hook: Any,
        listener: Callable[..., Any],
        queue: CallQueue,
        settings: BatchSettings,
        timeout: float = NO_TIMEOUT,
    ) -> None:
        #: The function that gets the batches.
        self.listener: Final = listener
        #: The hook it is registered on, whose error policy records failed batches.
        self.hook: Final = hook
        #: How many events make a batch.
        self.max_size: Final = settings.max_size
        #: How long a batch's first event waits at most.
        self.max_wait: Final = settings.max_wait
        #: Batches handed over so far, and the events in them (mean batch size: their ratio).
        self.batches = 0
        self.delivered = 0
        self._queue: Final = queue
        self._batch: list[Any] = []
        self._timer: Any = None
        #: Set by a profiler: each batch that runs is timed and counted there.
        self.profile: Any = None
        #: Seconds a batch's call may run before it is abandoned (:data:`NO_TIMEOUT`: no
        #: limit).
        self.timeout: Final = timeout
        if timeout:
            queue.timeouts_on = True
        #: What the hook calls on each fire: :meth:`fired` with the fire's arguments packed.
        self.accept: Final[Callable[..., None]] = keywords_to(self.fired)
        queue.batch_listeners.append(self)

    @property
    def settings(self) -> BatchSettings:
        return BatchSettings(self.max_size, self.max_wait)

    @property
    def waiting(self) -> int:
        """Events in the batch not handed over yet."""
        return len(self._batch)

    def fired(self, arguments: Arguments) -> None:
        """A fire of the hook: its event joins the batch, or takes the pool's slow way."""
        queue = self._queue
        if queue.takes_now():
            self.add_event(arguments)
        else:
            queue.take_slowly(self.add_event, arguments, self)

    def add_event(self, event: Arguments) -> None:
        """Take an event (a fire's packed arguments) the pool has room for, in the home
        thread."""
        batch, queue = self._batch, self._queue
        size, load = len(batch), queue.load
        try:
            batch.append(event)
            queue.load = load + 1
        except BaseException:  # landed between the steps: count what the batch holds
            queue.load = load + len(batch) - size
            raise
        if len(batch) >= self.max_size:
            self.hand_over()
        elif len(batch) == 1:
            self._start_timer()

    def hand_over(self) -> None:
        """Queue the batch as one call now, if it holds any event. In the home thread.

        The call is queued before anything is let go, so an error raised on the way (a
        ``RecursionError``, a ``KeyboardInterrupt``) leaves the events in the batch or in
        the queue, never in neither.
        """
        batch = self._batch
        if not batch:
            return
        call: Call = (
            _monotonic(),
            self,
            _Delivery(self.listener, batch, self.profile),
            _NO_ARGUMENTS,
            len(batch),
        )
        queue = self._queue
        try:
            self._batch = []
            queue.queue_held(call)
        except BaseException:  # landed before the call was queued: the batch is still ours
            if not queue.holds_last(call):
                self._batch = batch
            raise
        self.batches += 1
        self.delivered += call[4]
        self._stop_timer()
        queue.wake_or_start_workers()

    def discard(self) -> int:
        """Forget the batch not handed over (a closed pool, a forked child); its size."""
        held = len(self._batch)
        self._batch = []
        self._stop_timer()
        return held

    def detach(self) -> None:
        """Removed from its hook: hand the batch over (at once in the pool's thread, else
        by its timer); the pool forgets it once its events are queued."""
        queue = self._queue
        if _thread_ident() == queue.home:
            self.hand_over()
            with contextlib.suppress(ValueError):
                queue.batch_listeners.remove(self)

    def profile_with(self, profile: Any) -> None:
        """Time and count each of its batches that runs in ``profile`` (``None`` stops)."""
        self.profile = profile
        if profile is not None:
            self._queue.profiled = True

    def count_end(self, call: Call, failed: bool) -> None:
        """Count one of its batches ended, and its events, under :attr:`profile`."""
        profile = self.profile
        try:
            profile.count(failed)
            profile.events += call[4]
        except Exception:  # noqa: S110 - a profile must not kill the worker
            pass

    def record_failure(self, call: Call, error: Exception) -> None:
        """Record a failed batch once, under its hook's error policy, naming its size."""
        if hasattr(error, "add_note"):  # Python 3.11+: the logged traceback shows it
            error.add_note(
                f"Batch listener {describe_listener(self.listener)} of hook "
                f"{self.hook.name!r} raised on a batch of {call[4]} event(s); all of them are "
                "counted as failed"
            )
        self.hook.record_failure(self.listener, error)

    def _start_timer(self) -> None:
        timer = self._queue.hub.loop.timer(self.max_wait)
        timer.start(self._waited, self._batch)
        self._timer = timer

    def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            with contextlib.suppress(Exception):
                timer.close()

    def _waited(self, batch: list[Any]) -> None:
        """In the hub, ``max_wait`` after ``batch`` began: hand it over if it still waits."""
        if batch is self._batch:
            try:
                self.hand_over()
            except Exception as error:  # a hub callback must not raise
                log_safely(
                    "error",
                    "Handing over a batch of %s raised",
                    describe_listener(self.listener),
                    exc_info=error,
                )

    def __repr__(self) -> str:
        return (
            f"<batch listener {describe_listener(self.listener)} (max_size={self.max_size}, "
            f"max_wait={self.max_wait:g}) in {self._queue.name!r}>"
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
    try:
        seconds = float(max_wait)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(
            f"{where}: max_wait must be a finite number of seconds above 0, not {max_wait!r}; "
            "pass e.g. max_wait=1.0"
        )
    refuse_listener_that_never_runs(hook_name, func)
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


def check_pool_fits(hook_name: str, func: object, max_size: int, pool: Any) -> None:
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
    found = owner_of_forwarder(entry)
    return found if type(found) is BatchListener else None


# Where setup.py compiled this file with Cython (as ``_batching_compiled``, whose ``.pxd``
# declares ``BatchListener`` as a final C type), the module becomes that build.
adopt_compiled_twin(globals(), "locust_events._batching_compiled")
